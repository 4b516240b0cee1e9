"""Engines and migrations."""

from __future__ import annotations

import fcntl
import os
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
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DisconnectionError, OperationalError, ProgrammingError

from albumen.adapters.db.search.words import add_sqlite_functions
from albumen.domain.errors import Unavailable

if TYPE_CHECKING:
    from alembic.config import Config

    from albumen.adapters.db.monitor import QueryMonitor

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration in migrations/versions. A test keeps it equal to Alembic's head, so a
# database already there is recognised with one query, without loading Alembic (0.4 s).
SCHEMA_REVISION = "0021"
CONNECT_TIMEOUT_SECONDS = 5
BUSY_RETRY_AFTER_SECONDS = 5  # SQLite's write lock held past its busy timeout


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
    event.listen(engine, "handle_error", _sqlite_busy)
    _WRITE_LOCKS[engine] = threading.Lock()
    return engine


def _sqlite_busy(context: ExceptionContext) -> None:
    """Another process held the write lock past the busy timeout (a slow disk under its
    commit, a long backup): ``Unavailable``, a 503 to retry shortly, not a bug's 500."""
    error = context.original_exception
    if isinstance(context.sqlalchemy_exception, OperationalError) and str(error) in (
        "database is locked",
        "database is busy",
    ):
        busy = Unavailable(
            "the database is busy with another writer: try again shortly", code="database_busy"
        )
        busy.details["retry_after"] = BUSY_RETRY_AFTER_SECONDS
        raise busy from error


_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()


def _server_engine(url: str, pool: Pool) -> Engine:
    engine = create_engine(
        url,
        pool_size=min(pool.idle, pool.max_open),
        max_overflow=max(0, pool.max_open - pool.idle),
        pool_recycle=pool.lifetime_seconds,
        pool_pre_ping=True,
        pool_timeout=30,
        # a server that does not answer (a host gone, a network cut) is given up on, not waited
        # for as long as the kernel would: the request answers 503 instead of hanging
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )

    @event.listens_for(engine, "handle_error")
    def _away(context: ExceptionContext) -> None:
        """The server out of reach (refused, gone mid-query, not answering) is ``Unavailable``,
        a 503 the client may retry, not a bug's 500; the pool reconnects once it is back."""
        error = context.sqlalchemy_exception
        if isinstance(error, OperationalError) and (
            context.is_disconnect or context.connection is None
        ):
            raise Unavailable(
                "the database cannot be reached: try again shortly", code="database_unavailable"
            ) from context.original_exception

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


SQLITE_HEADER = b"SQLite format 3\x00"


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (``None`` for a server database or one in memory)."""
    if not url.startswith("sqlite"):
        return None
    path = url.removeprefix("sqlite:///")
    return Path(path) if path and path != ":memory:" else None


def is_damage(error: BaseException) -> bool:
    """Whether a database error says the SQLite file is not (or no longer) a database."""
    text = str(getattr(error, "orig", error))
    return "file is not a database" in text or "malformed" in text


class DatabaseFile:
    """An SQLite database's file looked at without SQLite: whether its header still says it is
    one (16 KB of garbage over it left a server answering ready and failing every call).

    The descriptor stays open until ``close``, after the engine's connections are: closing a
    descriptor of the file drops every POSIX lock this process holds on it, SQLite's too."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def damage(self) -> str | None:
        """``None`` while the header is an SQLite database's; else what is wrong."""
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDONLY)
        if os.fstat(self._fd).st_ino != self._path.stat().st_ino:
            return "the file was replaced under the running server"
        if os.pread(self._fd, len(SQLITE_HEADER), 0) != SQLITE_HEADER:
            return "not an SQLite database"
        return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


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
