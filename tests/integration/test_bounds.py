"""Every bounded text column holds the same in both worlds, and the code bounds what it writes.

SQLite ignores declared lengths; PostgreSQL refuses a character too many. A photo whose date
source named the time zone at its GPS position (68 characters in a ``VARCHAR(64)``) was kept on
the embedded default and ended ``failed`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, String, Table, insert, select, text
from sqlalchemy.exc import DBAPIError

from albumen.adapters.db.bounds import declared_bounds
from albumen.adapters.db.engine import make_engine, migrate
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.tables import metadata, photos
from albumen.app.services import Services
from albumen.config import Settings
from albumen.domain import limits
from albumen.domain.metadata import (
    Camera,
    PhotoMetadata,
    TakenAt,
    clean_text,
    zone_source,
)
from albumen.domain.places import Place

BOUNDED = [
    (table, name, limit)
    for table in metadata.sorted_tables
    for name, limit in declared_bounds(table).items()
]
# The longest IANA zone name (tzdata's "backward" links included), the longest date tag read.
LONGEST_ZONE = "America/Argentina/ComodRivadavia"
LONGEST_DATE_TAG = "XMP-photoshop:DateCreated"


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """The database alone: cheaper than the whole library, for the eighty cases below."""
    built = make_engine(settings.effective_database_url.reveal())
    migrate(built)
    yield built
    built.dispose()


def _too_long(error: DBAPIError) -> bool:
    """PostgreSQL's ``value too long for type character varying`` or SQLite's guard."""
    return "too long" in str(error.orig)


def _try_insert(engine: Engine, table: Table, name: str, value: str) -> DBAPIError | None:
    with engine.connect() as conn:
        try:
            # plain SQL: only this column is given, whatever the table's keys want
            conn.execute(
                text(f"INSERT INTO {table.name} ({name}) VALUES (:value)"), {"value": value}
            )
        except DBAPIError as error:
            return error
        finally:
            conn.rollback()
    return None


@pytest.mark.parametrize(("table", "name", "limit"), BOUNDED, ids=lambda x: getattr(x, "name", x))
def test_a_bounded_column_refuses_one_character_more_in_both_worlds(
    engine: Engine, table: Table, name: str, limit: int
) -> None:
    refused = _try_insert(engine, table, name, "é" * (limit + 1))
    assert refused is not None, f"{table.name}.{name} kept {limit + 1} characters"
    assert _too_long(refused), refused
    # at the bound, the row may fail for another reason (a missing column), never for length
    kept = _try_insert(engine, table, name, "é" * limit)
    assert kept is None or not _too_long(kept), f"{table.name}.{name} refused {limit}"


def test_every_declared_text_bound_is_guarded() -> None:
    """A new bounded column without a guard on SQLite fails the test above; this one keeps the
    list it runs on from being empty by mistake."""
    assert len(BOUNDED) > 60
    assert all(isinstance(table.c[name].type, String) for table, name, _ in BOUNDED)


def _photo(services: Services, engine: Engine) -> str:
    user = services.users.add("alice").user
    with engine.begin() as conn:
        conn.execute(
            insert(photos).values(
                id="p" * 36,
                owner_id=user.id,
                filename="x.jpg",
                mime="image/jpeg",
                size=1,
                sha256="0" * 64,
                status="processing",
                created_at=datetime(2024, 1, 1),
                sort_at=datetime(2024, 1, 1),
                doc_id=1,
            )
        )
    return "p" * 36


def test_the_longest_values_the_code_writes_are_kept_in_both_worlds(
    services: Services, engine: Engine
) -> None:
    """A 60,000-character make from a file, the longest date source (the longest tag, offset of
    the longest zone name), a place with 200-character names: stored whole or bounded, in both."""
    photo_id = _photo(services, engine)
    huge = "Canon " * 10_000
    source = zone_source(LONGEST_DATE_TAG, LONGEST_ZONE)
    meta = PhotoMetadata(
        width=1,
        height=1,
        taken_at=TakenAt(datetime(2020, 5, 1, 12), 720, source),
        camera=Camera(clean_text(huge), clean_text(huge), clean_text(huge)),
    )
    place = Place("c" * limits.NAME, "r" * limits.NAME, "n" * limits.NAME, "FJ")
    SqlPhotoRepo(engine).save_metadata(photo_id, meta, datetime(2020, 5, 1), place)
    with engine.connect() as conn:
        row = conn.execute(select(photos).where(photos.c.id == photo_id)).one()
    wanted = "XMP-photoshop:DateCreated; offset of America/Argentina/ComodRivadavia"
    assert row.taken_source == source == f"{wanted} at the GPS position"
    assert len(row.make) == len(row.model) == len(row.lens) <= limits.CAMERA_TEXT
    assert huge.startswith(row.make)


def test_a_date_source_longer_than_its_column_is_cut_by_the_code() -> None:
    assert len(zone_source("t" * 500, LONGEST_ZONE)) == limits.DATE_SOURCE


def test_a_tus_upload_with_a_5000_character_name_is_kept_with_a_name_that_fits(
    services: Services,
) -> None:
    user = services.users.add("alice").user
    upload = services.uploads.create(user.id, 10, "a" * 5000 + ".jpg")
    assert len(upload.filename.encode()) <= limits.FILENAME_BYTES
    assert services.uploads.get(user.id, upload.id).filename == upload.filename


def test_an_api_key_label_is_bounded(services: Services) -> None:
    services.users.add("alice")
    assert services.users.add_key("alice", "L" * 1000).secret
