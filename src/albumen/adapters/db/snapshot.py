"""``SqliteSnapshots``: consistent copies of the SQLite database, checked, and put back.

``VACUUM INTO`` writes a compact copy of one read transaction: a consistent snapshot taken
while the library stays in use (writers carry on; WAL keeps the snapshot's view). A copy is
checked before anyone relies on it: ``PRAGMA integrity_check``, the schema revision, and the
rows of every table.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from albumen.adapters.db.engine import SCHEMA_REVISION, current_revision
from albumen.adapters.db.references import SqlBlobReferences
from albumen.domain.durability import DatabaseSnapshot
from albumen.domain.errors import Conflict, IntegrityError, InvalidInput

log = logging.getLogger(__name__)


class SqliteSnapshots:
    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "sqlite":
            raise InvalidInput(
                "albumen backup copies SQLite databases; back PostgreSQL up with its own tools "
                "(pg_dump or continuous archiving) and this command's blob manifest",
                code="backup_unsupported",
            )
        self._engine = engine
        database = engine.url.database
        if not database or database == ":memory:":
            raise InvalidInput(
                "an in-memory database cannot be backed up", code="backup_unsupported"
            )
        self._path = Path(database)

    def snapshot(self, dest: Path) -> DatabaseSnapshot:
        """A consistent copy of the database at ``dest`` (which must not exist), checked."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self._engine.connect() as conn:
            conn.exec_driver_sql("VACUUM INTO ?", (str(dest),))
        with dest.open("rb") as file:
            os.fsync(file.fileno())
        return self.check(dest)

    def check(self, path: Path) -> DatabaseSnapshot:
        """``IntegrityError`` unless the copy at ``path`` is whole; its revision and rows."""
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise IntegrityError(f"{path.name} is not a readable database: {err}") from err
        if verdict != "ok":
            raise IntegrityError(f"{path.name} failed its integrity check: {verdict}")
        engine = _read_only(path)
        try:
            with engine.connect() as conn:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            rows = SqlBlobReferences(engine).row_counts()
        finally:
            engine.dispose()
        return DatabaseSnapshot(str(revision or ""), rows, path.stat().st_size, _sha256(path))

    def live(self) -> dict[str, int]:
        """Rows per table of the database in use."""
        return SqlBlobReferences(self._engine).row_counts()

    def references(self, path: Path) -> tuple[SqlBlobReferences, Engine]:
        """The blobs a snapshot refers to (dispose of the engine when done)."""
        engine = _read_only(path)
        return SqlBlobReferences(engine), engine

    def is_empty(self) -> bool:
        """True when there is no library here yet (no database file, or no tables)."""
        if not self._path.exists():
            return True
        with sqlite3.connect(self._path) as db:
            found = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
            return bool(found.fetchone()[0] == 0)

    def install(self, source: Path) -> None:
        """Make a checked snapshot the database, atomically. Only where there is none yet."""
        if not self.is_empty():
            raise Conflict("a library is already here; restore into an empty data dir")
        self._engine.dispose()
        for stale in (self._path, *_sidecar_files(self._path)):
            stale.unlink(missing_ok=True)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temp = self._path.with_name(f".{self._path.name}.{uuid.uuid4().hex}")
        try:
            shutil.copyfile(source, temp)
            with temp.open("rb") as file:
                os.fsync(file.fileno())
            os.replace(temp, self._path)
        finally:
            temp.unlink(missing_ok=True)
        log.info("database restored", extra={"source": str(source)})


def _read_only(path: Path) -> Engine:
    """An engine that cannot change the copy (not even its journal mode)."""
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


def _sidecar_files(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def backup_before_migrating(engine: Engine, folder: Path, keep: int = 3) -> Path | None:
    """Before the schema changes, a checked copy of the database in ``folder``.

    Only when a migration is due on an existing SQLite library. The copy must hold as many
    rows in every table as the database (nothing else writes while a migration waits), or the
    migration does not run. The newest ``keep`` such copies are kept.
    """
    revision = current_revision(engine)
    if revision is None or revision == SCHEMA_REVISION:
        return None
    if engine.dialect.name != "sqlite":
        log.warning("no automatic backup of this database before migrating: take one yourself")
        return None
    snapshots = SqliteSnapshots(engine)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = folder / f"before-{SCHEMA_REVISION}-from-{revision}-{stamp}.sqlite3"
    taken = snapshots.snapshot(dest)
    if taken.rows != snapshots.live() or taken.revision != revision:
        dest.unlink(missing_ok=True)
        raise IntegrityError("the backup before the migration does not match the database")
    log.info("database backed up before migrating", extra={"path": str(dest), "bytes": taken.bytes})
    for old in sorted(folder.glob("before-*.sqlite3"), key=lambda p: p.stat().st_mtime)[:-keep]:
        old.unlink()
    return dest
