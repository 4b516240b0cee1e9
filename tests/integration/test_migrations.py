"""Alembic migrations on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

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
