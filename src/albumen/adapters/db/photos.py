"""``SqlPhotoRepo``: photos and their derivatives in SQLAlchemy Core."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from albumen.adapters.db.engine import writing
from albumen.adapters.db.tables import derivatives, photos
from albumen.domain.metadata import Camera, Exposure, Location, PhotoMetadata, TakenAt
from albumen.domain.photos import (
    Derivative,
    NewPhoto,
    Page,
    Photo,
    PhotoEdit,
    PhotoStatus,
    ThumbFormat,
    ThumbSize,
    TimelineCursor,
)

_UNFINISHED = (PhotoStatus.PENDING.value, PhotoStatus.PROCESSING.value)


class SqlPhotoRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, new: NewPhoto, now: datetime) -> tuple[Photo, bool]:
        photo = Photo(
            id=str(uuid.uuid4()),
            owner_id=new.owner_id,
            filename=new.filename,
            mime=new.mime,
            size=new.size,
            sha256=new.sha256,
            status=PhotoStatus.PENDING,
            created_at=now,
            sort_at=now,
        )
        columns = ("id", "owner_id", "filename", "mime", "size", "sha256", "created_at", "sort_at")
        values = {name: getattr(photo, name) for name in columns} | {"status": photo.status.value}
        try:
            with writing(self._engine) as conn:
                conn.execute(insert(photos).values(values))
        except IntegrityError:  # the owner already has these bytes: the first one wins
            existing = self.find_by_hash(new.owner_id, new.sha256)
            if existing is None:
                raise
            return existing, False
        return photo, True

    def get(self, photo_id: str, owner_id: str | None = None) -> Photo | None:
        query = select(photos).where(photos.c.id == photo_id)
        if owner_id is not None:
            query = query.where(photos.c.owner_id == owner_id)
        return self._one(query)

    def find_by_hash(self, owner_id: str, sha256: str) -> Photo | None:
        return self._one(
            select(photos).where(photos.c.owner_id == owner_id, photos.c.sha256 == sha256)
        )

    def sizes(self, owner_id: str) -> set[int]:
        query = select(photos.c.size).where(photos.c.owner_id == owner_id).distinct()
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def page(self, owner_id: str, limit: int, after: TimelineCursor | None) -> Page:
        query = (
            select(photos)
            .where(photos.c.owner_id == owner_id, photos.c.deleted_at.is_(None))
            .order_by(photos.c.sort_at.desc(), photos.c.id.desc())
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(
                or_(
                    photos.c.sort_at < after.sort_at,
                    and_(photos.c.sort_at == after.sort_at, photos.c.id < after.id),
                )
            )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        found = [_photo(row) for row in rows[:limit]]
        more = len(rows) > limit
        cursor = TimelineCursor(found[-1].sort_at, found[-1].id) if more and found else None
        return Page(photos=found, next_cursor=cursor)

    def set_status(self, photo_id: str, status: PhotoStatus, error: str | None = None) -> None:
        self._update(photo_id, status=status.value, error=error)

    def claim(self, photo_id: str) -> bool:
        with writing(self._engine) as conn:
            result = conn.execute(
                update(photos)
                .where(photos.c.id == photo_id, photos.c.status != PhotoStatus.READY.value)
                .values(status=PhotoStatus.PROCESSING.value, error=None)
            )
        return result.rowcount == 1

    def save_metadata(self, photo_id: str, metadata: PhotoMetadata, sort_at: datetime) -> None:
        self._update(photo_id, sort_at=sort_at, **_metadata_values(metadata))

    def finish(self, photo_id: str, thumbhash: str | None, derivatives_: list[Derivative]) -> None:
        with writing(self._engine) as conn:
            for derivative in derivatives_:
                _upsert_derivative(conn, derivative)
            conn.execute(
                update(photos)
                .where(photos.c.id == photo_id)
                .values(thumbhash=thumbhash, status=PhotoStatus.READY.value, error=None)
            )

    def edit(self, photo_id: str, edit: PhotoEdit, sort_at: datetime | None) -> None:
        values: dict[str, Any] = {}
        if edit.favorite is not None:
            values["favorite"] = edit.favorite
        if edit.description is not None:
            values["description"] = edit.description
        if edit.taken_at is not None and sort_at is not None:
            offset = edit.taken_at.utcoffset()
            values |= {
                "taken_local": edit.taken_at.replace(tzinfo=None),
                "taken_offset_min": None if offset is None else int(offset.total_seconds()) // 60,
                "taken_utc": sort_at,
                "taken_source": "user",
                "sort_at": sort_at,
            }
        if values:
            self._update(photo_id, **values)

    def set_deleted(self, photo_id: str, deleted_at: datetime | None) -> None:
        self._update(photo_id, deleted_at=deleted_at)

    def add_derivative(self, derivative: Derivative) -> None:
        with writing(self._engine) as conn:
            _upsert_derivative(conn, derivative)

    def derivative(self, photo_id: str, size: ThumbSize, fmt: ThumbFormat) -> Derivative | None:
        query = select(derivatives).where(
            derivatives.c.photo_id == photo_id,
            derivatives.c.size == size.value,
            derivatives.c.format == fmt.value,
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _derivative(row)

    def referenced(self, hashes: list[str]) -> set[str]:
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(hashes), 500):
                batch = hashes[start : start + 500]
                for table in (photos, derivatives):
                    query = select(table.c.sha256).where(table.c.sha256.in_(batch)).distinct()
                    found.update(conn.execute(query).scalars())
        return found

    def unfinished(self) -> list[str]:
        query = (
            select(photos.c.id)
            .where(photos.c.status.in_(_UNFINISHED))
            .order_by(photos.c.status, photos.c.created_at)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def failures(self, owner_id: str, limit: int) -> list[Photo]:
        query = (
            select(photos)
            .where(photos.c.owner_id == owner_id, photos.c.status == PhotoStatus.FAILED.value)
            .order_by(photos.c.created_at.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [_photo(row) for row in conn.execute(query)]

    def status_counts(self, owner_id: str) -> dict[PhotoStatus, int]:
        query = (
            select(photos.c.status, func.count())
            .where(photos.c.owner_id == owner_id)
            .group_by(photos.c.status)
        )
        with self._engine.connect() as conn:
            counts = {PhotoStatus(status): n for status, n in conn.execute(query)}
        return {status: counts.get(status, 0) for status in PhotoStatus}

    def _one(self, query: Any) -> Photo | None:
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _photo(row)

    def _update(self, photo_id: str, **values: Any) -> None:
        with writing(self._engine) as conn:
            conn.execute(update(photos).where(photos.c.id == photo_id).values(**values))


def _upsert_derivative(conn: Any, derivative: Derivative) -> None:
    key = and_(
        derivatives.c.photo_id == derivative.photo_id,
        derivatives.c.size == derivative.size.value,
        derivatives.c.format == derivative.format.value,
    )
    values = {
        "sha256": derivative.sha256,
        "bytes": derivative.bytes,
        "width": derivative.width,
        "height": derivative.height,
    }
    if conn.execute(update(derivatives).where(key).values(values)).rowcount:
        return
    conn.execute(
        insert(derivatives).values(
            photo_id=derivative.photo_id,
            size=derivative.size.value,
            format=derivative.format.value,
            **values,
        )
    )


def _metadata_values(meta: PhotoMetadata) -> dict[str, Any]:
    taken, where = meta.taken_at, meta.location
    return {
        "width": meta.width,
        "height": meta.height,
        "orientation": meta.orientation,
        "taken_local": taken.local if taken else None,
        "taken_offset_min": taken.offset_minutes if taken else None,
        "taken_utc": taken.utc if taken else None,
        "taken_source": taken.source if taken else None,
        "lat": where.lat if where else None,
        "lon": where.lon if where else None,
        "alt": where.alt if where else None,
        "make": meta.camera.make,
        "model": meta.camera.model,
        "lens": meta.camera.lens,
        "iso": meta.exposure.iso,
        "f_number": meta.exposure.f_number,
        "exposure_time": meta.exposure.exposure_time,
        "focal_length": meta.exposure.focal_length,
    }


def _metadata(row: Row[Any]) -> PhotoMetadata | None:
    if row.width is None and row.taken_local is None and row.make is None:
        return None
    taken = (
        TakenAt(row.taken_local, row.taken_offset_min, row.taken_source or "")
        if row.taken_local is not None
        else None
    )
    location = Location(row.lat, row.lon, row.alt) if row.lat is not None else None
    return PhotoMetadata(
        width=row.width,
        height=row.height,
        orientation=row.orientation,
        taken_at=taken,
        location=location,
        camera=Camera(row.make, row.model, row.lens),
        exposure=Exposure(row.iso, row.f_number, row.exposure_time, row.focal_length),
    )


def _photo(row: Row[Any]) -> Photo:
    return Photo(
        id=row.id,
        owner_id=row.owner_id,
        filename=row.filename,
        mime=row.mime,
        size=row.size,
        sha256=row.sha256,
        status=PhotoStatus(row.status),
        created_at=row.created_at,
        sort_at=row.sort_at,
        metadata=_metadata(row),
        error=row.error,
        favorite=bool(row.favorite),
        description=row.description,
        thumbhash=row.thumbhash,
        deleted_at=row.deleted_at,
    )


def _derivative(row: Row[Any]) -> Derivative:
    return Derivative(
        photo_id=row.photo_id,
        size=ThumbSize(row.size),
        format=ThumbFormat(row.format),
        sha256=row.sha256,
        bytes=row.bytes,
        width=row.width,
        height=row.height,
    )
