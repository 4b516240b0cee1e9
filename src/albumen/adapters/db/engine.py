"""Engines and migrations."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError, OperationalError, ProgrammingError

from albumen.adapters.db.search.words import add_sqlite_functions

if TYPE_CHECKING:
    from alembic.config import Config

    from albumen.adapters.db.monitor import QueryMonitor

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration in migrations/versions. A test keeps it equal to Alembic's head, so a
# database already there is recognised with one query, without loading Alembic (0.4 s).
SCHEMA_REVISION = "0017"


@dataclass(frozen=True)
class Pool:
    """A server database's connection pool, per process (the production defaults)."""

    max_open: int = 100
    idle: int = 25  # kept open while idle; the rest are closed as they come back
    lifetime_seconds: float = 300
    idle_timeout_seconds: float = 60


def make_engine(url: str, monitor: QueryMonitor | None = None, pool: Pool | None = None) -> Engine:
    """An engine; SQLite gets WAL, full fsync on commit, a busy timeout and foreign keys;
    PostgreSQL a pool (``Pool``) whose connections are checked before use (pre-ping).

    With a ``monitor``, every statement is timed and the slow ones are kept with their plan.
    """
    if not url.startswith("sqlite"):
        server = _server_engine(url, pool or Pool())
        if monitor is not None:
            monitor.watch(server)
        return server
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


def _server_engine(url: str, pool: Pool) -> Engine:
    engine = create_engine(
        url,
        pool_size=min(pool.idle, pool.max_open),
        max_overflow=max(0, pool.max_open - pool.idle),
        pool_recycle=pool.lifetime_seconds,
        pool_pre_ping=True,
        pool_timeout=30,
    )

    # SQLAlchemy's pool has no idle timeout: a connection that waited in the pool too long
    # is refused at checkout (DisconnectionError), and the pool opens a fresh one instead.
    @event.listens_for(engine, "checkin")
    def _returned(_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since > pool.idle_timeout_seconds:
            raise DisconnectionError("idle longer than the pool's idle timeout")

    return engine


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
    add_sqlite_functions(dbapi_connection)  # the search triggers call them
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
    """Bring the schema to the newest revision. Processes that start together (API workers,
    ``albumen worker`` on several machines) migrate one at a time: the first does the work,
    the others wait for it and then find the schema current."""
    if current_revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command

    with _migration_lock(engine):
        if current_revision(engine) != SCHEMA_REVISION:
            command.upgrade(alembic_config(engine), "head")


# An arbitrary constant: the key of PostgreSQL's advisory lock for migrations.
_MIGRATION_LOCK_KEY = 0x416C62756D656E


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """A lock across processes: PostgreSQL's advisory lock, or a file lock beside SQLite's."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrating", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield
