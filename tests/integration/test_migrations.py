"""Alembic migrations on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String, inspect, text

from albumen.adapters.db.engine import (
    SCHEMA_REVISION,
    alembic_config,
    current_revision,
    make_engine,
    migrate,
)
from albumen.adapters.db.tables import metadata


def test_schema_revision_is_alembics_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == (
        SCHEMA_REVISION
    )


def test_migrations_build_the_tables_and_indexes_the_code_declares(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert current_revision(engine) is None
    migrate(engine)
    migrate(engine)  # a second run finds the schema current and does nothing
    assert current_revision(engine) == SCHEMA_REVISION
    found = inspect(engine)
    assert set(metadata.tables) <= set(found.get_table_names())
    for table in metadata.tables.values():
        declared = {index.name for index in table.indexes}
        assert declared <= {index["name"] for index in found.get_indexes(table.name)}


_SQLITE_INDEX_TABLES = ("photo_fts", "photo_geo", "search_terms")  # kept by migrations alone


def _only_a_length(diff: object) -> bool:
    """A column whose declared ``VARCHAR`` length alone differs. SQLite keeps that length as
    words in its schema and enforces nothing by it; the bound it does enforce is a trigger's,
    which ``test_bounds.py`` checks against the declared one, column by column."""
    if not (isinstance(diff, list) and len(diff) == 1 and diff[0][0] == "modify_type"):
        return False
    found, declared = diff[0][5], diff[0][6]
    return isinstance(found, String) and isinstance(declared, String)


def test_migrations_and_declared_tables_agree_column_by_column(tmp_path: Path) -> None:
    """Alembic's own comparison finds nothing but what it cannot see: the search index's
    virtual tables and indexes on expressions (``doc_id DESC``), checked by name above, and
    declared lengths, which SQLite does not keep (``_only_a_length``)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    expression_indexes = {"ix_photos_timeline", "ix_photos_favorite", "ix_photos_archived"}
    expression_indexes |= {"ix_photos_mime", "ix_photos_uploaded"}
    unexpected = [
        diff
        for diff in diffs
        if not (diff[0] == "remove_table" and diff[1].name.startswith(_SQLITE_INDEX_TABLES))
        and not (diff[0] in ("add_index", "remove_index") and diff[1].name in expression_indexes)
        and not _only_a_length(diff)
    ]
    assert unexpected == []


def test_upgrading_a_library_indexes_the_photos_it_has(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users VALUES ('u', 'alice', NULL, '2020-01-01')"))
        for n, day in enumerate(["2019-06-01 10:00:00", "2021-01-02 09:00:00"]):
            conn.execute(
                text(
                    "INSERT INTO photos (id, owner_id, filename, mime, size, sha256, status,"
                    " created_at, sort_at) VALUES (:id, 'u', :name, 'image/jpeg', 1, :sha,"
                    " 'ready', '2022-01-01', :day)"
                ),
                {"id": f"p{n}", "name": f"beach_{n}.jpg", "sha": f"{n:064x}", "day": day},
            )
    migrate(engine)
    with engine.connect() as conn:
        order = conn.execute(text("SELECT id FROM photos ORDER BY doc_id DESC")).scalars()
        assert list(order) == ["p1", "p0"]
        found = conn.execute(text("SELECT count(*) FROM photo_fts WHERE photo_fts MATCH 'beach'"))
        assert found.scalar() == 2
        days = conn.execute(text("SELECT day, count FROM timeline_days ORDER BY day")).all()
        assert [tuple(day) for day in days] == [("2019-06-01", 1), ("2021-01-02", 1)]


def test_upgrading_keeps_every_row_that_hangs_off_a_rebuilt_table(tmp_path: Path) -> None:
    """SQLite rebuilds a table to change it (copy, drop, rename). With foreign keys on, the
    drop deletes first, and ON DELETE CASCADE would take every child row along: the
    thumbnails of each photo when 0002 rebuilt ``photos``. Nothing may be lost."""
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users VALUES ('u', 'alice', NULL, '2020-01-01')"))
        conn.execute(text("INSERT INTO api_keys VALUES ('h', 'u', 'cli', '2020-01-01')"))
        conn.execute(
            text(
                "INSERT INTO photos (id, owner_id, filename, mime, size, sha256, status,"
                " created_at, sort_at) VALUES ('p', 'u', 'a.jpg', 'image/jpeg', 1, 'aa',"
                " 'ready', '2022-01-01', '2022-01-01 10:00:00')"
            )
        )
        conn.execute(
            text("INSERT INTO derivatives VALUES ('p', 'thumb', 'webp', 'bb', 10, 300, 200)")
        )
    migrate(engine)
    with engine.connect() as conn:
        counts = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("users", "api_keys", "photos", "derivatives")
        }
        assert counts == {"users": 1, "api_keys": 1, "photos": 1, "derivatives": 1}
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # on again
        assert conn.execute(text("SELECT is_admin FROM users")).scalar() == 1


# pgvector's column, which SQLAlchemy does not know (it is left out of the comparison)
@pytest.mark.filterwarnings("ignore:Did not recognize type 'vector'")
def test_on_postgresql_the_migrations_build_what_the_code_declares(postgres_url: str) -> None:
    """The same migrations on PostgreSQL (the session's template database ran them): tables,
    columns and their types as declared, and PostgreSQL's own search and place indexes."""
    engine = make_engine(postgres_url)
    migrate(engine)  # already current: nothing to do
    assert current_revision(engine) == SCHEMA_REVISION
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        indexes = set(conn.execute(text("SELECT indexname FROM pg_indexes")).scalars())
        invalid = conn.execute(text("SELECT count(*) FROM pg_index WHERE NOT indisvalid")).scalar()
    engine.dispose()
    unexpected = [
        diff
        for diff in diffs
        if not (diff[0] == "remove_table" and diff[1].name in ("photo_search", "search_terms"))
        and not (diff[0] == "remove_index" and diff[1].name in POSTGRES_ONLY_INDEXES)
        and not (diff[0] == "remove_column" and diff[2:4] and diff[3].name == "embedding")
    ]
    assert unexpected == []
    assert indexes >= POSTGRES_ONLY_INDEXES
    assert invalid == 0  # every CONCURRENTLY build finished


POSTGRES_ONLY_INDEXES = {
    "ix_photos_place",
    "ix_albums_name_trigrams",
    "ix_people_name_trigrams",
    "ix_photo_search_document",
    "ix_photo_search_recent",
    "ix_photo_embeddings_likeness_hnsw",
}
