"""``SqlUploadRepo``: resumable uploads in progress, and the claim of the one request writing
to each (``writer``, until ``writer_until``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select, update

from albumen.adapters.db.engine import writing
from albumen.adapters.db.tables import uploads
from albumen.domain.metadata import FILE_MODIFIED, TakenAt
from albumen.ports import Upload


class SqlUploadRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, upload: Upload) -> None:
        modified = upload.file_modified
        with writing(self._engine) as conn:
            conn.execute(
                insert(uploads).values(
                    id=upload.id,
                    owner_id=upload.owner_id,
                    length=upload.length,
                    offset=upload.offset,
                    filename=upload.filename,
                    created_at=upload.created_at,
                    file_modified_local=modified.local if modified else None,
                    file_modified_offset_min=modified.offset_minutes if modified else None,
                )
            )

    def get(self, upload_id: str, owner_id: str) -> Upload | None:
        query = select(uploads).where(uploads.c.id == upload_id, uploads.c.owner_id == owner_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _upload(row)

    def claim(
        self,
        upload_id: str,
        offset: int,
        writer: str,
        until: datetime,
        now: datetime,
        lapsed: Callable[[str], bool],
    ) -> bool:
        """Make ``writer`` the upload's one writer, if it is still at ``offset`` without a
        photo and nobody holds it: no claim, one past ``until``, or one whose holder
        ``lapsed`` says has ended. One statement decides, so two claimers never both win."""
        with writing(self._engine) as conn:
            row = conn.execute(
                select(uploads.c.writer, uploads.c.writer_until).where(uploads.c.id == upload_id)
            ).first()
            if row is None:
                return False
            held = row.writer is not None and row.writer_until > now and not lapsed(row.writer)
            if held:
                return False
            previous = (
                uploads.c.writer.is_(None) if row.writer is None else uploads.c.writer == row.writer
            )
            claimed = conn.execute(
                update(uploads)
                .where(
                    uploads.c.id == upload_id,
                    uploads.c.offset == offset,
                    uploads.c.photo_id.is_(None),
                    previous,
                )
                .values(writer=writer, writer_until=until)
            )
            return claimed.rowcount == 1

    def renew(self, upload_id: str, writer: str, until: datetime) -> bool:
        """Extend ``writer``'s claim; ``False`` when it is no longer theirs."""
        return self._as(upload_id, writer, {"writer_until": until})

    def advance(self, upload_id: str, writer: str, offset: int) -> bool:
        """Record ``writer``'s new offset, keeping its claim."""
        return self._as(upload_id, writer, {"offset": offset})

    def release(
        self, upload_id: str, writer: str, offset: int, photo_id: str | None = None
    ) -> bool:
        """Record what ``writer`` leaves (the offset, and the photo when it made one) and end
        its claim, in one statement; ``False`` when the claim was no longer theirs."""
        values: dict[str, Any] = {"offset": offset, "writer": None, "writer_until": None}
        if photo_id is not None:
            values["photo_id"] = photo_id
        return self._as(upload_id, writer, values)

    def stranded(self) -> list[Upload]:
        """Uploads with every byte and no photo: a crash came between them."""
        query = select(uploads).where(
            uploads.c.offset == uploads.c.length, uploads.c.photo_id.is_(None)
        )
        with self._engine.connect() as conn:
            return [_upload(row) for row in conn.execute(query)]

    def delete(self, upload_id: str) -> None:
        with writing(self._engine) as conn:
            conn.execute(delete(uploads).where(uploads.c.id == upload_id))

    def older_than(self, cutoff: datetime) -> list[Upload]:
        query = select(uploads).where(uploads.c.created_at < cutoff)
        with self._engine.connect() as conn:
            return [_upload(row) for row in conn.execute(query)]

    def _as(self, upload_id: str, writer: str, values: dict[str, Any]) -> bool:
        """Set ``values`` on the upload if ``writer`` still holds it."""
        with writing(self._engine) as conn:
            changed = conn.execute(
                update(uploads)
                .where(uploads.c.id == upload_id, uploads.c.writer == writer)
                .values(values)
            )
            return changed.rowcount == 1


def _upload(row: Row[Any]) -> Upload:
    return Upload(
        id=row.id,
        owner_id=row.owner_id,
        length=row.length,
        offset=row.offset,
        filename=row.filename,
        created_at=row.created_at,
        photo_id=row.photo_id,
        file_modified=file_modified_of(row),
    )


def file_modified_of(row: Row[Any]) -> TakenAt | None:
    """The uploader's file date kept in a row of ``photos`` or ``uploads``."""
    local = row.file_modified_local
    return None if local is None else TakenAt(local, row.file_modified_offset_min, FILE_MODIFIED)
