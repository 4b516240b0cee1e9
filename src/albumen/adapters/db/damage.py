"""``SqlDamagedBlobs``: blobs known not to match their hash, so that none is served as good."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, select

from albumen.adapters.db.engine import dialect_insert, writing
from albumen.adapters.db.tables import damaged_blobs


class SqlDamagedBlobs:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def mark(self, sha256: str, found_by: str, now: datetime) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                dialect_insert(conn, damaged_blobs)
                .values(sha256=sha256, found_by=found_by, found_at=now)
                .on_conflict_do_nothing()
            )

    def clear(self, sha256: str) -> None:
        with writing(self._engine) as conn:
            conn.execute(delete(damaged_blobs).where(damaged_blobs.c.sha256 == sha256))

    def is_damaged(self, sha256: str) -> bool:
        query = select(damaged_blobs.c.sha256).where(damaged_blobs.c.sha256 == sha256)
        with self._engine.connect() as conn:
            return conn.execute(query).first() is not None

    def all(self) -> set[str]:
        with self._engine.connect() as conn:
            return set(conn.execute(select(damaged_blobs.c.sha256)).scalars())
