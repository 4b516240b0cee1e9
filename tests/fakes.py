"""In-memory implementations of the ports, for service tests. mypy checks that they fit
(see ``tests/unit/test_services.py``, which hands them to services typed by the ports)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from albumen.domain.errors import BlobMissing, CorruptMedia, IntegrityError, TooLarge
from albumen.domain.jobs import JobName, Outcome, QueueStats, Schedule
from albumen.domain.media import MediaType
from albumen.domain.metadata import PhotoMetadata
from albumen.domain.photos import (
    Derivative,
    NewPhoto,
    Page,
    Photo,
    PhotoEdit,
    PhotoStatus,
    PhotoTag,
    Purged,
    Rendition,
    ThumbFormat,
    ThumbSize,
    TimelineCursor,
    sort_key,
)
from albumen.domain.places import Place
from albumen.domain.tiers import Retrieval, Tier, TierUsage
from albumen.ports import BlobStore, StagedFile, StoredBlob


class FakeClock:
    def __init__(self, now: datetime = datetime(2026, 1, 1, 12, 0)) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class FakeStagingWriter:
    def __init__(self, store: FakeBlobStore, max_bytes: int) -> None:
        self._store = store
        self._max = max_bytes
        self._data = bytearray()

    def write(self, chunk: bytes) -> None:
        self._data += chunk
        if len(self._data) > self._max:
            raise TooLarge("too large")

    def finish(self) -> StagedFile:
        path = Path(f"/staging/{uuid.uuid4().hex}")
        self._store.staged[path] = bytes(self._data)
        sha = hashlib.sha256(self._data).hexdigest()
        return StagedFile(path, sha, len(self._data), bytes(self._data[:64]))

    def abort(self) -> None:
        self._data.clear()


class FakeBlobStore:
    def __init__(self, clock: FakeClock) -> None:
        self.blobs: dict[str, bytes] = {}
        self.written: dict[str, datetime] = {}
        self.staged: dict[Path, bytes] = {}
        self._clock = clock

    def stage(self, max_bytes: int) -> FakeStagingWriter:
        return FakeStagingWriter(self, max_bytes)

    def stage_existing(self, path: Path) -> StagedFile:
        data = self.staged[path]
        return StagedFile(path, hashlib.sha256(data).hexdigest(), len(data), data[:64])

    def commit(self, staged: StagedFile) -> None:
        self._keep(staged.sha256, self.staged.pop(staged.path))

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        self._keep(sha, data)
        return sha

    def _keep(self, sha: str, data: bytes) -> None:
        self.blobs[sha] = data
        self.written[sha] = self._clock.now()

    def discard(self, staged: StagedFile) -> None:
        self.staged.pop(staged.path, None)

    def exists(self, sha256: str) -> bool:
        return sha256 in self.blobs

    def size(self, sha256: str) -> int:
        return len(self._get(sha256))

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> bytes:
        return self._get(sha256)[start:end]

    def iter_range(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        yield self._get(sha256)[start:end]

    def local_path(self, sha256: str) -> Path:
        self._get(sha256)
        return Path(f"/blobs/{sha256}")

    def verify(self, sha256: str) -> bool:
        return hashlib.sha256(self._get(sha256)).hexdigest() == sha256

    def delete(self, sha256: str, older_than: datetime | None = None) -> bool:
        if sha256 not in self.blobs:
            return False
        if older_than is not None and self.written[sha256] >= older_than:
            return False
        del self.blobs[sha256]
        return True

    def discard_stale_staging(self, cutoff: datetime) -> int:
        return 0

    def list_older_than(self, cutoff: datetime) -> Iterator[str]:
        return iter([sha for sha, when in self.written.items() if when < cutoff])

    def hash_of(self, sha256: str) -> str:
        return hashlib.sha256(self._get(sha256)).hexdigest()

    def put_file(self, source: Path, sha256: str, *, replace: bool = False) -> int:
        data = source.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise IntegrityError(f"the copy of blob {sha256} does not match")
        if sha256 in self.blobs and not replace:
            return 0
        self._keep(sha256, data)
        return len(data)

    def scan(self) -> Iterator[StoredBlob]:
        for sha in sorted(self.blobs):
            yield StoredBlob(sha, len(self.blobs[sha]), self.written[sha])

    def check(self) -> None:
        pass

    def thaw(self, sha256: str) -> bool:
        self._get(sha256)
        return True

    def copy_from(self, source: BlobStore, sha256: str) -> bool:
        return False

    def presigned_url(self, sha256: str, filename: str, mime: str, seconds: int) -> str | None:
        return None

    def _get(self, sha256: str) -> bytes:
        try:
            return self.blobs[sha256]
        except KeyError:
            raise BlobMissing("no such blob") from None


class FakePhotoRepo:
    def __init__(self) -> None:
        self.photos: dict[str, Photo] = {}
        self.derivatives: dict[tuple[str, ThumbSize, ThumbFormat], Derivative] = {}
        self.reads = 0
        self.claims: dict[str, datetime] = {}  # when processing took each photo

    def add(self, new: NewPhoto, now: datetime) -> tuple[Photo, bool]:
        existing = self.find_by_hash(new.owner_id, new.sha256)
        if existing is not None:
            return existing, False
        modified = new.file_modified
        sort_at = (modified.utc or modified.local) if modified else now
        photo = Photo(
            str(uuid.uuid4()),
            new.owner_id,
            new.filename,
            new.mime,
            new.size,
            new.sha256,
            PhotoStatus.PENDING,
            now,
            sort_at,
            doc_id=sort_key(sort_at, len(self.photos)),
            file_modified=modified,
        )
        self.photos[photo.id] = photo
        return photo, True

    def get_many(self, photo_ids: Sequence[str], owner_id: str) -> list[Photo]:
        return [p for p in self.photos.values() if p.id in photo_ids and p.owner_id == owner_id]

    def get(self, photo_id: str, owner_id: str | None = None) -> Photo | None:
        self.reads += 1
        photo = self.photos.get(photo_id)
        return photo if photo and owner_id in (None, photo.owner_id) else None

    def find_by_hash(self, owner_id: str, sha256: str) -> Photo | None:
        return next(
            (p for p in self.photos.values() if (p.owner_id, p.sha256) == (owner_id, sha256)),
            None,
        )

    def sizes(self, owner_id: str) -> set[int]:
        return {p.size for p in self.photos.values() if p.owner_id == owner_id}

    def page(self, owner_id: str, limit: int, after: TimelineCursor | None) -> Page:
        return self._page(owner_id, limit, after, trashed=False)

    def trash_page(self, owner_id: str, limit: int, after: TimelineCursor | None) -> Page:
        return self._page(owner_id, limit, after, trashed=True)

    def _page(self, owner_id: str, limit: int, after: TimelineCursor | None, trashed: bool) -> Page:
        mine = sorted(
            (
                p
                for p in self.photos.values()
                if p.owner_id == owner_id and p.trashed == trashed and not p.archived
            ),
            key=lambda p: p.doc_id,
            reverse=True,
        )
        if after is not None:
            mine = [p for p in mine if p.doc_id < after.doc_id]
        more = len(mine) > limit
        last = mine[limit - 1] if more else None
        return Page(mine[:limit], TimelineCursor(last.doc_id) if last else None)

    def set_status(self, photo_id: str, status: PhotoStatus, error: str | None = None) -> None:
        self._change(photo_id, status=status, error=error)

    def claim(
        self, photo_id: str, now: datetime, stale_before: datetime, claimer: str = ""
    ) -> bool:
        photo = self.photos.get(photo_id)
        if photo is None or photo.status is PhotoStatus.READY:
            return False
        claimed = self.claims.get(photo_id)
        live = claimed is not None and claimed >= stale_before
        if photo.status is PhotoStatus.PROCESSING and live:
            return False
        self._change(photo_id, status=PhotoStatus.PROCESSING, error=None)
        self.claims[photo_id] = now
        return True

    def save_metadata(
        self, photo_id: str, metadata: PhotoMetadata, sort_at: datetime, place: Place | None
    ) -> None:
        doc_id = sort_key(sort_at, len(self.photos))
        self._change(photo_id, metadata=metadata, sort_at=sort_at, place=place, doc_id=doc_id)

    def set_place(self, photo_id: str, place: Place | None) -> None:
        self._change(photo_id, place=place)

    def unplaced(self, limit: int) -> list[Photo]:
        located = [p for p in self.photos.values() if p.metadata and p.metadata.location]
        return [p for p in located if p.place is None][:limit]

    def finish(self, photo_id: str, thumbhash: str | None, derivatives: list[Derivative]) -> None:
        for derivative in derivatives:
            self.add_derivative(derivative)
        self._change(photo_id, thumbhash=thumbhash, status=PhotoStatus.READY, error=None)

    def edit(self, photo_ids: Sequence[str], edit: PhotoEdit, sort_at: datetime | None) -> None:
        for photo_id in photo_ids:
            for name in ("favorite", "archived", "description"):
                if getattr(edit, name) is not None:
                    self._change(photo_id, **{name: getattr(edit, name)})
            if edit.tags is not None:
                self._change(photo_id, tags=tuple(PhotoTag(tag, "user") for tag in edit.tags))
            if sort_at is not None:
                self._change(photo_id, sort_at=sort_at, doc_id=sort_key(sort_at))

    def set_deleted(self, photo_ids: Sequence[str], deleted_at: datetime | None) -> list[str]:
        changed = [p for p in photo_ids if self.photos[p].trashed != (deleted_at is not None)]
        for photo_id in changed:
            self._change(photo_id, deleted_at=deleted_at)
        return changed

    def trashed_before(self, cutoff: datetime, limit: int) -> list[str]:
        old = [p.id for p in self.photos.values() if p.deleted_at and p.deleted_at < cutoff]
        return old[:limit]

    def purge(self, photo_ids: Sequence[str], owner_id: str | None = None) -> Purged:
        gone = [
            self.photos.pop(p)
            for p in photo_ids
            if p in self.photos
            and self.photos[p].trashed
            and owner_id in (None, self.photos[p].owner_id)
        ]
        hashes = {p.sha256 for p in gone}
        for key in [k for k in self.derivatives if k[0] in {p.id for p in gone}]:
            hashes.add(self.derivatives.pop(key).sha256)
        return Purged([p.id for p in gone], hashes)

    def add_derivative(self, derivative: Derivative) -> None:
        key = (derivative.photo_id, derivative.size, derivative.format)
        self.derivatives[key] = derivative

    def derivative(self, photo_id: str, size: ThumbSize, fmt: ThumbFormat) -> Derivative | None:
        return self.derivatives.get((photo_id, size, fmt))

    def derivative_hashes(
        self, photo_ids: Sequence[str], fmt: ThumbFormat
    ) -> dict[tuple[str, ThumbSize], str]:
        return {
            (pid, size): d.sha256
            for (pid, size, f), d in self.derivatives.items()
            if pid in photo_ids and f is fmt
        }

    def referenced(self, hashes: list[str]) -> set[str]:
        used = {p.sha256 for p in self.photos.values()}
        used |= {d.sha256 for d in self.derivatives.values()}
        return used & set(hashes)

    def claimers(self) -> set[str]:
        return set()

    def release(self, claimers: Sequence[str]) -> int:
        return 0

    def unfinished(self, before: datetime | None = None, pending: bool = True) -> list[str]:
        waiting = (PhotoStatus.PENDING, PhotoStatus.PROCESSING) if pending else ()
        found = [p for p in self.photos.values() if p.status in (*waiting, PhotoStatus.PROCESSING)]
        if before is None:
            return [p.id for p in found]
        since = {p.id: self.claims.get(p.id) or p.created_at for p in found}
        return [p.id for p in found if since[p.id] < before]

    def failures(self, owner_id: str, limit: int) -> list[Photo]:
        failed = [p for p in self.photos.values() if p.status is PhotoStatus.FAILED]
        return [p for p in failed if p.owner_id == owner_id][:limit]

    def status_counts(self, owner_id: str) -> dict[PhotoStatus, int]:
        mine = [p.status for p in self.photos.values() if p.owner_id == owner_id]
        return {status: mine.count(status) for status in PhotoStatus}

    def failed(self, limit: int) -> tuple[list[str], int]:
        found = [p.id for p in self.photos.values() if p.status is PhotoStatus.FAILED]
        return found[:limit], len(found)

    def _change(self, photo_id: str, **changes: object) -> None:
        self.photos[photo_id] = replace(self.photos[photo_id], **changes)  # type: ignore[arg-type]  # fields


class FakeAlbums:
    """Albums as far as photo access needs them: which photos each user sees through one."""

    def __init__(self) -> None:
        self.shared: set[tuple[str, str]] = set()  # (user_id, photo_id)

    def member_can_view(self, user_id: str, photo_id: str) -> bool:
        return (user_id, photo_id) in self.shared


class FakeGeocoder:
    def __init__(self, place: Place | None = None, zone: str | None = None) -> None:
        self._place = place
        self._zone = zone

    def place(self, lat: float, lon: float) -> Place | None:
        return self._place

    def timezone(self, lat: float, lon: float) -> str | None:
        return self._zone


class FakeQueue:
    """Keeps what is queued; ``run_pending`` runs it through the registered handlers."""

    def __init__(self) -> None:
        self.jobs: list[tuple[JobName, str]] = []
        self.handlers: dict[JobName, Callable[[str], Outcome]] = {}
        self.schedules: dict[JobName, Schedule] = {}

    def register(
        self,
        job: JobName,
        handler: Callable[[str], Outcome],
        retries: int,
        schedule: Schedule | None = None,
    ) -> None:
        self.handlers[job] = handler
        if schedule is not None:
            self.schedules[job] = schedule

    def enqueue(self, job: JobName, arg: str = "") -> None:
        self.jobs.append((job, arg))

    def stats(self) -> QueueStats:
        return QueueStats(pending=len(self.jobs), scheduled=0, running=0, failed=0)

    def run_pending(self) -> int:
        ran = 0
        while self.jobs:
            job, arg = self.jobs.pop(0)
            self.handlers[job](arg)
            ran += 1
        return ran


class FakeReader:
    """Returns what it is told to; ``error`` makes it fail like a broken file."""

    def __init__(self, metadata: PhotoMetadata | None = None) -> None:
        self.metadata = metadata or PhotoMetadata(width=400, height=300)
        self.error: Exception | None = None

    def read(self, path: Path, media: MediaType) -> PhotoMetadata:
        if self.error is not None:
            raise self.error
        return self.metadata


class FakeThumbnailer:
    def __init__(self) -> None:
        self.renders = 0
        self.broken = False

    def render(
        self, path: Path, media: MediaType, sizes: list[ThumbSize], fmt: ThumbFormat
    ) -> list[Rendition]:
        if self.broken:
            raise CorruptMedia("cannot decode")
        self.renders += 1
        return [
            Rendition(size, fmt, f"{path.name}:{size.value}:{fmt.value}".encode(), *size.box)
            for size in sizes
        ]

    def placeholder(self, rendition: Rendition) -> str:
        return "hash-of-" + rendition.size.value


class FakeCache:
    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.entries.get(key)

    def has(self, key: str) -> bool:
        return key in self.entries

    def set(self, key: str, value: bytes) -> None:
        self.entries[key] = value

    def delete(self, key: str) -> None:
        self.entries.pop(key, None)


@dataclass
class FakeTierRow:
    tier: Tier
    read_at: datetime
    moving_to: Tier | None = None


class FakeTierRepo:
    def __init__(self) -> None:
        self.rows: dict[str, FakeTierRow] = {}
        self.retrieved: list[tuple[str, Tier, int]] = []

    def track(self, sha256: str, read_at: datetime, tier: Tier = Tier.HOT) -> None:
        self.rows[sha256] = FakeTierRow(tier, read_at)

    def tier(self, sha256: str) -> Tier | None:
        row = self.rows.get(sha256)
        return None if row is None else row.tier

    def read(self, sha256: str, now: datetime) -> None:
        if sha256 in self.rows:
            self.rows[sha256].read_at = now

    def _select(self, tier: Tier, keep: Callable[[datetime], bool], limit: int) -> list[str]:
        found = sorted(
            (row.read_at, sha)
            for sha, row in self.rows.items()
            if row.tier is tier and row.moving_to is None and keep(row.read_at)
        )
        return [sha for _, sha in found][:limit]

    def unread_since(self, tier: Tier, before: datetime, limit: int) -> list[str]:
        return self._select(tier, lambda read: read < before, limit)

    def read_since(self, tier: Tier, since: datetime, limit: int) -> list[str]:
        return self._select(tier, lambda read: read >= since, limit)

    def start_move(self, sha256: str, to: Tier) -> None:
        self.rows[sha256].moving_to = to

    def finish_move(self, sha256: str, to: Tier, now: datetime) -> None:
        row = self.rows[sha256]
        row.tier, row.moving_to = to, None
        if to is Tier.HOT:
            row.read_at = now

    def forget(self, sha256: str) -> None:
        self.rows.pop(sha256, None)

    def moving(self, limit: int) -> list[tuple[str, Tier]]:
        found = [(sha, row.moving_to) for sha, row in self.rows.items() if row.moving_to]
        return found[:limit]

    def count_retrieval(self, owner_id: str, tier: Tier, size: int, now: datetime) -> None:
        self.retrieved.append((owner_id, tier, size))

    def usage(self) -> list[TierUsage]:
        return []

    def retrievals(self, since_month: str) -> list[Retrieval]:
        return []


class FakeDamagedBlobs:
    """``ports.DamagedBlobs`` in memory."""

    def __init__(self) -> None:
        self.marked: dict[str, str] = {}

    def mark(self, sha256: str, found_by: str, now: datetime) -> None:
        self.marked.setdefault(sha256, found_by)

    def clear(self, sha256: str) -> None:
        self.marked.pop(sha256, None)

    def is_damaged(self, sha256: str) -> bool:
        return sha256 in self.marked

    def all(self) -> set[str]:
        return set(self.marked)
