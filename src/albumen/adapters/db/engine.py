"""Engines and migrations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, ProgrammingError

if TYPE_CHECKING:
    from alembic.config import Config

    from albumen.adapters.db.monitor import QueryMonitor

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration in migrations/versions. A test keeps it equal to Alembic's head, so a
# database already there is recognised with one query, without loading Alembic (0.4 s).
SCHEMA_REVISION = "0012"


def make_engine(url: str, monitor: QueryMonitor | None = None) -> Engine:
    """An engine; SQLite gets WAL, full fsync on commit, a busy timeout and foreign keys.

    With a ``monitor``, every statement is timed and the slow ones are kept with their plan.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
    if monitor is not None:
        connect_args["factory"] = monitor.connection_factory()
    engine = create_engine(url, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_pragmas)
    _WRITE_LOCKS[engine] = threading.Lock()
    return engine


_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction. SQLite takes one writer at a time: this process's threads queue on
    a lock here rather than sleep in SQLite's busy handler (other processes still do)."""
    lock = _WRITE_LOCKS.get(engine)
    with lock or nullcontext(), engine.begin() as conn:
        yield conn


def dialect_insert(conn: Connection | Engine, table: Table) -> Any:
    """``INSERT`` in the dialect of ``conn``, with ``ON CONFLICT`` (both SQLite and PostgreSQL
    take ``on_conflict_do_nothing`` and ``on_conflict_do_update``)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged upload survives power loss
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # loaded only when the schema has to change

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):  # no alembic_version table yet
        return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    if current_revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
