"""``SqlUploadRepo``: resumable uploads in progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select, update

from albumen.adapters.db.engine import writing
from albumen.adapters.db.tables import uploads
from albumen.ports import Upload


class SqlUploadRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, upload: Upload) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                insert(uploads).values(
                    id=upload.id,
                    owner_id=upload.owner_id,
                    length=upload.length,
                    offset=upload.offset,
                    filename=upload.filename,
                    created_at=upload.created_at,
                )
            )

    def get(self, upload_id: str, owner_id: str) -> Upload | None:
        query = select(uploads).where(uploads.c.id == upload_id, uploads.c.owner_id == owner_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _upload(row)

    def set_offset(self, upload_id: str, offset: int) -> None:
        self._update(upload_id, offset=offset)

    def set_photo(self, upload_id: str, photo_id: str) -> None:
        self._update(upload_id, photo_id=photo_id)

    def delete(self, upload_id: str) -> None:
        with writing(self._engine) as conn:
            conn.execute(delete(uploads).where(uploads.c.id == upload_id))

    def older_than(self, cutoff: datetime) -> list[Upload]:
        query = select(uploads).where(uploads.c.created_at < cutoff)
        with self._engine.connect() as conn:
            return [_upload(row) for row in conn.execute(query)]

    def _update(self, upload_id: str, **values: Any) -> None:
        with writing(self._engine) as conn:
            conn.execute(update(uploads).where(uploads.c.id == upload_id).values(**values))


def _upload(row: Row[Any]) -> Upload:
    return Upload(
        id=row.id,
        owner_id=row.owner_id,
        length=row.length,
        offset=row.offset,
        filename=row.filename,
        created_at=row.created_at,
        photo_id=row.photo_id,
    )
