"""``SqlPhotoRepo``: photos and their derivatives in SQLAlchemy Core."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from albumen.adapters.db.engine import dialect_insert, writing
from albumen.adapters.db.replicas import ReadRouting
from albumen.adapters.db.tables import (
    blob_tiers,
    derivatives,
    faces,
    photo_tags,
    photos,
    places,
)
from albumen.adapters.db.uploads import file_modified_of
from albumen.domain.maps import grid_cell
from albumen.domain.metadata import Camera, Exposure, Location, PhotoMetadata, TakenAt
from albumen.domain.photos import (
    Derivative,
    NewPhoto,
    Page,
    Photo,
    PhotoEdit,
    PhotoStatus,
    PhotoTag,
    Purged,
    ThumbFormat,
    ThumbSize,
    TimelineCursor,
    sort_key,
)
from albumen.domain.places import Place
from albumen.domain.tiers import Tier

_UNFINISHED = (PhotoStatus.PENDING.value, PhotoStatus.PROCESSING.value)
_SALT_TRIES = 6  # random salts, then the first free keys (twice, for a racing writer)
_KEY_TRIES = 8
_KEY_SCAN = 1024
T = TypeVar("T")


def photo_query() -> Select[Any]:
    """Photos with their place: what ``photo_rows`` turns into ``Photo`` objects."""
    return select(
        photos,
        places.c.city,
        places.c.region,
        places.c.country,
        places.c.country_code,
        blob_tiers.c.tier,
    ).select_from(
        photos.outerjoin(places, places.c.id == photos.c.place_id).outerjoin(
            blob_tiers, blob_tiers.c.sha256 == photos.c.sha256
        )
    )


def photo_rows(conn: Connection, query: Select[Any]) -> list[Photo]:
    """Run a ``photo_query`` and attach every photo's tags with one more query (never N+1)."""
    rows = conn.execute(query).all()
    tags: dict[str, list[PhotoTag]] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        found = select(photo_tags).where(photo_tags.c.photo_id.in_(ids[start : start + 500]))
        order = (photo_tags.c.confidence.desc().nulls_first(), photo_tags.c.tag)
        for tag in conn.execute(found.order_by(*order)):
            tags.setdefault(tag.photo_id, []).append(PhotoTag(tag.tag, tag.source, tag.confidence))
    return [_photo(row, tuple(tags.get(row.id, ()))) for row in rows]


def keyset_page(engine: Engine, query: Select[Any], limit: int) -> Page:
    """A page of a ``photo_query`` that asked for ``limit + 1`` rows in ``doc_id`` order: the
    extra row only tells that there is more, and the cursor is the last ``doc_id`` shown."""
    with engine.connect() as conn:
        found = photo_rows(conn, query)
    more = len(found) > limit
    found = found[:limit]
    return Page(photos=found, next_cursor=TimelineCursor(found[-1].doc_id) if more else None)


def with_fresh_key(
    engine: Engine, sort_at: datetime, attempt: Callable[[int], T], count: int = 1
) -> T:
    """Run ``attempt(key)`` with a timeline key (``doc_id``) for ``sort_at`` that no photo
    has, or the first of ``count`` consecutive ones: a random salt first (photos of the same
    millisecond differ by it), then the first free keys once random draws keep missing, as
    they do when a scanner's batch gives a thousand photos one instant."""
    for tried in range(_KEY_TRIES):
        if tried < _SALT_TRIES:
            key = sort_key(sort_at, random.randrange(1 << 10))
        else:
            key = _free_keys(engine, sort_key(sort_at), count)
        try:
            return attempt(key)
        except IntegrityError as err:
            if "doc_id" not in str(err.orig) or tried == _KEY_TRIES - 1:
                raise
    raise AssertionError("unreachable: the last try returns or raises")


def _free_keys(engine: Engine, base: int, count: int) -> int:
    """The first key at or after ``base`` followed by ``count - 1`` free ones."""
    with engine.connect() as conn:
        start = base
        while True:
            taken = conn.execute(
                select(photos.c.doc_id)
                .where(photos.c.doc_id >= start)
                .order_by(photos.c.doc_id)
                .limit(_KEY_SCAN)
            ).scalars()
            candidate, seen = start, 0
            for key in taken:
                seen += 1
                if key - candidate >= count:
                    return candidate
                candidate = max(candidate, key + 1)
            if seen < _KEY_SCAN:
                return candidate
            start = candidate


class SqlPhotoRepo:
    def __init__(self, engine: Engine, reads: ReadRouting | None = None) -> None:
        self._engine = engine
        self._reads = reads  # timeline pages may come from a replica

    def add(self, new: NewPhoto, now: datetime) -> tuple[Photo, bool]:
        modified = new.file_modified  # the file's date: where it sits until its own is read
        photo = Photo(
            id=str(uuid.uuid4()),
            owner_id=new.owner_id,
            filename=new.filename,
            mime=new.mime,
            size=new.size,
            sha256=new.sha256,
            status=PhotoStatus.PENDING,
            created_at=now,
            sort_at=(modified.utc or modified.local) if modified else now,
            file_modified=modified,
        )
        columns = ("id", "owner_id", "filename", "mime", "size", "sha256", "created_at", "sort_at")
        values = {name: getattr(photo, name) for name in columns} | {
            "status": photo.status.value,
            "file_modified_local": modified.local if modified else None,
            "file_modified_offset_min": modified.offset_minutes if modified else None,
        }

        def insert_with(key: int) -> None:
            with writing(self._engine) as conn:
                conn.execute(insert(photos).values({**values, "doc_id": key}))
                _start_hot(conn, new.sha256, now)

        try:
            with_fresh_key(self._engine, photo.sort_at, insert_with)
        except IntegrityError:  # the owner already has these bytes: the first one wins
            existing = self.find_by_hash(new.owner_id, new.sha256)
            if existing is None:
                raise
            return existing, False
        return self.get(photo.id) or photo, True

    def get(self, photo_id: str, owner_id: str | None = None) -> Photo | None:
        query = photo_query().where(photos.c.id == photo_id)
        if owner_id is not None:
            query = query.where(photos.c.owner_id == owner_id)
        return self._one(query)

    def get_many(self, photo_ids: Sequence[str], owner_id: str) -> list[Photo]:
        """The owner's photos among these ids, in no particular order."""
        found: list[Photo] = []
        with self._engine.connect() as conn:
            for start in range(0, len(photo_ids), 500):
                batch = photo_ids[start : start + 500]
                query = photo_query().where(photos.c.id.in_(batch), photos.c.owner_id == owner_id)
                found.extend(photo_rows(conn, query))
        return found

    def find_by_hash(self, owner_id: str, sha256: str) -> Photo | None:
        return self._one(
            photo_query().where(photos.c.owner_id == owner_id, photos.c.sha256 == sha256)
        )

    def sizes(self, owner_id: str) -> set[int]:
        query = select(photos.c.size).where(photos.c.owner_id == owner_id).distinct()
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def page(self, owner_id: str, limit: int, after: TimelineCursor | None) -> Page:
        """The timeline: not trashed, not archived, newest first."""
        query = (
            photo_query()
            .where(
                photos.c.owner_id == owner_id,
                photos.c.deleted_at.is_(None),
                photos.c.archived.is_(False),
            )
            .order_by(photos.c.doc_id.desc())
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(photos.c.doc_id < after.doc_id)
        engine = self._engine if self._reads is None else self._reads.for_user(owner_id)
        return keyset_page(engine, query, limit)

    def trash_page(self, owner_id: str, limit: int, after: TimelineCursor | None) -> Page:
        query = (
            photo_query()
            .where(photos.c.owner_id == owner_id, photos.c.deleted_at.is_not(None))
            .order_by(photos.c.doc_id.desc())
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(photos.c.doc_id < after.doc_id)
        return keyset_page(self._engine, query, limit)

    def set_status(self, photo_id: str, status: PhotoStatus, error: str | None = None) -> None:
        self._update(photo_id, status=status.value, error=error)

    def claim(
        self, photo_id: str, now: datetime, stale_before: datetime, claimer: str = ""
    ) -> bool:
        free = or_(
            photos.c.status.in_([PhotoStatus.PENDING.value, PhotoStatus.FAILED.value]),
            and_(
                photos.c.status == PhotoStatus.PROCESSING.value,
                or_(photos.c.claimed_at.is_(None), photos.c.claimed_at < stale_before),
            ),
        )
        with writing(self._engine) as conn:
            result = conn.execute(
                update(photos)
                .where(photos.c.id == photo_id, free)
                .values(
                    status=PhotoStatus.PROCESSING.value,
                    error=None,
                    claimed_at=now,
                    claimed_by=claimer or None,
                )
            )
        return result.rowcount == 1

    def claimers(self) -> set[str]:
        query = (
            select(photos.c.claimed_by)
            .distinct()
            .where(
                photos.c.status == PhotoStatus.PROCESSING.value, photos.c.claimed_by.is_not(None)
            )
        )
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def release(self, claimers: Sequence[str]) -> int:
        with writing(self._engine) as conn:
            return conn.execute(
                update(photos)
                .where(
                    photos.c.status == PhotoStatus.PROCESSING.value,
                    photos.c.claimed_by.in_(list(claimers)),
                )
                .values(status=PhotoStatus.PENDING.value, claimed_at=None, claimed_by=None)
            ).rowcount

    def save_metadata(
        self, photo_id: str, metadata: PhotoMetadata, sort_at: datetime, place: Place | None
    ) -> None:
        def save(key: int) -> None:
            with writing(self._engine) as conn:
                place_id = _place_id(conn, place)
                conn.execute(
                    update(photos)
                    .where(photos.c.id == photo_id)
                    .values(
                        sort_at=sort_at,
                        doc_id=key,
                        place_id=place_id,
                        **_metadata_values(metadata),
                    )
                )

        with_fresh_key(self._engine, sort_at, save)

    def set_place(self, photo_id: str, place: Place | None) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                update(photos)
                .where(photos.c.id == photo_id)
                .values(place_id=_place_id(conn, place))
            )

    def unplaced(self, limit: int) -> list[Photo]:
        """Photos with a position but no place name (from before places were looked up)."""
        query = (
            photo_query().where(photos.c.lat.is_not(None), photos.c.place_id.is_(None)).limit(limit)
        )
        with self._engine.connect() as conn:
            return photo_rows(conn, query)

    def finish(self, photo_id: str, thumbhash: str | None, derivatives_: list[Derivative]) -> None:
        with writing(self._engine) as conn:
            for derivative in derivatives_:
                _upsert_derivative(conn, derivative)
            conn.execute(
                update(photos)
                .where(photos.c.id == photo_id)
                .values(thumbhash=thumbhash, status=PhotoStatus.READY.value, error=None)
            )

    def edit(self, photo_ids: Sequence[str], edit: PhotoEdit, sort_at: datetime | None) -> None:
        values = _edit_values(edit, sort_at)

        def save(first: int) -> None:
            with writing(self._engine) as conn:
                if values and sort_at is None:
                    conn.execute(update(photos).where(photos.c.id.in_(photo_ids)).values(values))
                elif values and sort_at is not None:
                    # photos given one date still need keys of their own: consecutive ones
                    conn.execute(
                        update(photos).where(photos.c.id == bindparam("photo")).values(values),
                        [
                            {"photo": photo_id, "doc_id": first + n}
                            for n, photo_id in enumerate(photo_ids)
                        ],
                    )
                if edit.tags is not None:
                    _replace_user_tags(conn, photo_ids, edit.tags)

        if sort_at is None:
            save(0)  # no key changes
        else:
            with_fresh_key(self._engine, sort_at, save, count=len(photo_ids))

    def set_deleted(self, photo_ids: Sequence[str], deleted_at: datetime | None) -> list[str]:
        """Trash (or restore, with ``None``) these photos; the ids whose state changed."""
        column = photos.c.deleted_at
        unchanged = column.is_(None) if deleted_at else column.is_not(None)
        with writing(self._engine) as conn:
            changed = list(
                conn.execute(
                    select(photos.c.id).where(photos.c.id.in_(photo_ids), unchanged)
                ).scalars()
            )
            conn.execute(
                update(photos).where(photos.c.id.in_(changed)).values(deleted_at=deleted_at)
            )
        return changed

    def trashed_before(self, cutoff: datetime, limit: int) -> list[str]:
        query = (
            select(photos.c.id)
            .where(photos.c.deleted_at.is_not(None), photos.c.deleted_at < cutoff)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def purge(self, photo_ids: Sequence[str], owner_id: str | None = None) -> Purged:
        """Delete for good those of these photos that are in the trash (and the owner's, when
        given). Returns what went, so that the caller can free blobs nothing else uses."""
        query = select(photos.c.id, photos.c.sha256).where(
            photos.c.id.in_(photo_ids), photos.c.deleted_at.is_not(None)
        )
        if owner_id is not None:
            query = query.where(photos.c.owner_id == owner_id)
        with writing(self._engine) as conn:
            found = conn.execute(query).all()
            ids = [row.id for row in found]
            hashes = {row.sha256 for row in found}
            for column, owner in (
                (derivatives.c.sha256, derivatives.c.photo_id),
                (faces.c.crop_sha256, faces.c.photo_id),
            ):
                hashes.update(conn.execute(select(column).where(owner.in_(ids))).scalars())
            conn.execute(delete(photos).where(photos.c.id.in_(ids)))
            still_used = select(photos.c.id).where(photos.c.sha256 == blob_tiers.c.sha256)
            conn.execute(
                delete(blob_tiers).where(
                    blob_tiers.c.sha256.in_([row.sha256 for row in found]),
                    ~still_used.exists(),
                )
            )
        return Purged(photo_ids=ids, hashes=hashes)

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

    def derivative_hashes(
        self, photo_ids: Sequence[str], fmt: ThumbFormat
    ) -> dict[tuple[str, ThumbSize], str]:
        found: dict[tuple[str, ThumbSize], str] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(photo_ids), 500):
                query = select(
                    derivatives.c.photo_id, derivatives.c.size, derivatives.c.sha256
                ).where(
                    derivatives.c.photo_id.in_(photo_ids[start : start + 500]),
                    derivatives.c.format == fmt.value,
                )
                for row in conn.execute(query):
                    found[(row.photo_id, ThumbSize(row.size))] = row.sha256
        return found

    def referenced(self, hashes: list[str]) -> set[str]:
        found: set[str] = set()
        columns = (photos.c.sha256, derivatives.c.sha256, faces.c.crop_sha256)
        with self._engine.connect() as conn:
            for start in range(0, len(hashes), 500):
                batch = hashes[start : start + 500]
                for column in columns:
                    query = select(column).where(column.in_(batch)).distinct()
                    found.update(conn.execute(query).scalars())
        return found

    def unfinished(self, before: datetime | None = None, pending: bool = True) -> list[str]:
        statuses = _UNFINISHED if pending else (PhotoStatus.PROCESSING.value,)
        query = select(photos.c.id).where(photos.c.status.in_(statuses))
        if before is not None:
            query = query.where(
                or_(
                    and_(
                        photos.c.status == PhotoStatus.PENDING.value, photos.c.created_at < before
                    ),
                    and_(
                        photos.c.status == PhotoStatus.PROCESSING.value,
                        or_(photos.c.claimed_at.is_(None), photos.c.claimed_at < before),
                    ),
                )
            )
        query = query.order_by(photos.c.status, photos.c.created_at)
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def failures(self, owner_id: str, limit: int) -> list[Photo]:
        query = (
            photo_query()
            .where(photos.c.owner_id == owner_id, photos.c.status == PhotoStatus.FAILED.value)
            .order_by(photos.c.created_at.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return photo_rows(conn, query)

    def failed(self, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` failed photos of every user (oldest first), and how many there are."""
        failed = photos.c.status == PhotoStatus.FAILED.value
        with self._engine.connect() as conn:
            ids = conn.execute(
                select(photos.c.id).where(failed).order_by(photos.c.created_at).limit(limit)
            ).scalars()
            found = [str(photo_id) for photo_id in ids]
            total = conn.execute(select(func.count()).select_from(photos).where(failed))
            return found, int(total.scalar_one())

    def status_counts(self, owner_id: str) -> dict[PhotoStatus, int]:
        query = (
            select(photos.c.status, func.count())
            .where(photos.c.owner_id == owner_id)
            .group_by(photos.c.status)
        )
        with self._engine.connect() as conn:
            counts = {PhotoStatus(status): n for status, n in conn.execute(query)}
        return {status: counts.get(status, 0) for status in PhotoStatus}

    def _one(self, query: Select[Any]) -> Photo | None:
        with self._engine.connect() as conn:
            found = photo_rows(conn, query.limit(1))
        return found[0] if found else None

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


def _edit_values(edit: PhotoEdit, sort_at: datetime | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(edit, name)
        for name in ("favorite", "archived", "description")
        if getattr(edit, name) is not None
    }
    if edit.taken_at is not None and sort_at is not None:
        offset = edit.taken_at.utcoffset()
        values |= {
            "taken_local": edit.taken_at.replace(tzinfo=None),
            "taken_offset_min": None if offset is None else int(offset.total_seconds()) // 60,
            "taken_utc": sort_at,
            "taken_source": "user",
            "sort_at": sort_at,
        }
    return values


def _replace_user_tags(conn: Connection, photo_ids: Sequence[str], tags: Sequence[str]) -> None:
    conn.execute(
        delete(photo_tags).where(
            photo_tags.c.photo_id.in_(photo_ids), photo_tags.c.source == "user"
        )
    )
    rows = [
        {"photo_id": photo_id, "tag": tag, "source": "user", "confidence": None}
        for photo_id in photo_ids
        for tag in dict.fromkeys(tags)
    ]
    if rows:
        # a tag a model found already stays; the user's word for it is the same word
        conn.execute(dialect_insert(conn, photo_tags).on_conflict_do_nothing(), rows)


def _place_id(conn: Connection, place: Place | None) -> int | None:
    if place is None:
        return None
    key = and_(
        places.c.country_code == place.country_code,
        places.c.region == place.region,
        places.c.city == place.city,
    )
    found = conn.execute(select(places.c.id).where(key)).scalar()
    if found is not None:
        return int(found)
    values = {
        "city": place.city,
        "region": place.region,
        "country": place.country,
        "country_code": place.country_code,
    }
    return int(conn.execute(insert(places).values(values).returning(places.c.id)).scalar_one())


def _metadata_values(meta: PhotoMetadata) -> dict[str, Any]:
    taken, where = meta.taken_at, meta.location
    cell = grid_cell(where.lat, where.lon) if where else None
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
        "map_x": cell[0] if cell else None,
        "map_y": cell[1] if cell else None,
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


def _place(row: Row[Any]) -> Place | None:
    if row.city is None:
        return None
    return Place(row.city, row.region, row.country, row.country_code)


def _photo(row: Row[Any], tags: tuple[PhotoTag, ...]) -> Photo:
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
        doc_id=row.doc_id,
        archived=bool(row.archived),
        place=_place(row),
        tags=tags,
        analysis_version=row.analysis_version,
        analysis_error=row.analysis_error,
        tier=Tier(row.tier or Tier.HOT),
        file_modified=file_modified_of(row),
    )


def _start_hot(conn: Connection, sha256: str, now: datetime) -> None:
    """A tier row for new bytes: hot, as if read now (bytes already stored keep theirs, also
    when another owner's upload of them commits first)."""
    row = {"sha256": sha256, "tier": Tier.HOT.value, "read_at": now}
    conn.execute(dialect_insert(conn, blob_tiers).values(row).on_conflict_do_nothing())


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
