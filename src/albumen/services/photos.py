"""``PhotoService``: ingest, read, edit and trash photos; serve their bytes and thumbnails."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from albumen.domain.errors import (
    Conflict,
    IntegrityError,
    InvalidInput,
    NotFound,
    OriginalDamaged,
    Unavailable,
)
from albumen.domain.jobs import JobName
from albumen.domain.media import media_type, safe_filename, sniff
from albumen.domain.metadata import TakenAt, file_modified
from albumen.domain.photos import (
    Derivative,
    IngestResult,
    NewPhoto,
    Page,
    Photo,
    PhotoEdit,
    PhotoStatus,
    Rendition,
    ThumbFormat,
    ThumbSize,
    TimelineCursor,
)
from albumen.domain.tiers import Tier
from albumen.ports import (
    BlobStore,
    Cache,
    Clock,
    DamagedBlobs,
    JobQueue,
    Locks,
    PhotoAccess,
    PhotoRepo,
    StagedFile,
    StagingWriter,
    Thumbnailer,
)
from albumen.services.tiers import TierService

log = logging.getLogger(__name__)
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class ThumbnailBytes:
    data: bytes
    etag: str
    mime: str


@dataclass(frozen=True, slots=True)
class CachedThumbnail:
    found: ThumbnailBytes
    owner_id: str  # whose photo: anyone else's access is checked before it is served


class PhotoService:
    def __init__(
        self,
        photos: PhotoRepo,
        access: PhotoAccess,
        blobs: BlobStore,
        queue: JobQueue,
        thumbnailer: Thumbnailer,
        cache: Cache,
        clock: Clock,
        max_upload_bytes: int,
        tiers: TierService,
        damaged: DamagedBlobs,
        presign_seconds: int = 0,
        locks: Locks | None = None,
    ) -> None:
        self._photos = photos
        self._access = access
        self._blobs = blobs
        self._queue = queue
        self._thumbnailer = thumbnailer
        self._cache = cache
        self._clock = clock
        self.max_upload_bytes = max_upload_bytes
        self._locks = locks
        self._tiers = tiers
        self._damaged = damaged
        self._presign_seconds = presign_seconds

    def stage(self) -> StagingWriter:
        """A writer for an incoming upload, hashing as it goes and enforcing the size limit."""
        return self._blobs.stage(self.max_upload_bytes)

    def stage_existing(self, path: Path) -> StagedFile:
        return self._blobs.stage_existing(path)

    def ingest(
        self,
        owner_id: str,
        filename: str | None,
        staged: StagedFile,
        file_modified: TakenAt | None = None,
    ) -> IngestResult:
        """Store staged bytes as the owner's photo, or return the photo they already are.
        ``file_modified`` (the file's date, from its uploader) dates it if its contents do not.

        Two uploads of the same bytes by one owner at once take turns (a named lock, in Redis
        when processes share it): the second finds the first's photo and stores nothing. The
        database's unique (owner, hash) makes one photo of them whatever happens."""
        if self._locks is None:
            return self._ingest(owner_id, filename, staged, file_modified)
        with self._locks.hold(f"ingest:{owner_id}:{staged.sha256}"):
            return self._ingest(owner_id, filename, staged, file_modified)

    def _ingest(
        self,
        owner_id: str,
        filename: str | None,
        staged: StagedFile,
        file_modified: TakenAt | None,
    ) -> IngestResult:
        try:
            media = sniff(staged.head, filename or "")
            existing = self._photos.find_by_hash(owner_id, staged.sha256)
            if existing is not None:
                self._blobs.discard(staged)
                return IngestResult(existing, duplicate=True)
            self._blobs.commit(staged)
        except BaseException:
            self._blobs.discard(staged)
            raise
        name = safe_filename(filename)
        new = NewPhoto(owner_id, name, media.mime, staged.size, staged.sha256, file_modified)
        photo, created = self._photos.add(new, self._clock.now())
        if created:
            self._queue.enqueue(JobName.PROCESS_PHOTO, photo.id)
            log.info("photo stored", extra={"photo_id": photo.id, "bytes": photo.size})
        return IngestResult(photo, duplicate=not created)

    def file_date(self, text: str | None) -> TakenAt | None:
        """An uploader's ``modified_at`` (the file's date), checked; ``None`` if not sent."""
        return None if not text else file_modified(text, self._clock.now())

    def find_by_hash(self, owner_id: str, sha256: str) -> Photo | None:
        return self._photos.find_by_hash(owner_id, sha256)

    def sizes(self, owner_id: str) -> set[int]:
        """The byte sizes of the owner's photos (a file of another size is not among them)."""
        return self._photos.sizes(owner_id)

    def get(self, owner_id: str, photo_id: str) -> Photo:
        """One of the user's own photos."""
        photo = self._photos.get(photo_id, owner_id)
        if photo is None:
            raise NotFound("no such photo", code="photo_not_found")
        return photo

    def viewable(self, user_id: str, photo_id: str) -> Photo:
        """A photo the user owns, or one in an album shared with them (not trashed)."""
        photo = self._photos.get(photo_id)
        if photo is None or (
            photo.owner_id != user_id
            and (photo.trashed or not self._access.member_can_view(user_id, photo_id))
        ):
            raise NotFound("no such photo", code="photo_not_found")
        return photo

    def owned(self, owner_id: str, photo_ids: Sequence[str]) -> list[Photo]:
        """The user's photos with these ids; ``NotFound`` naming any that are not theirs."""
        found = self._photos.get_many(list(dict.fromkeys(photo_ids)), owner_id)
        missing = set(photo_ids) - {photo.id for photo in found}
        if missing:
            error = NotFound(f"no such photo: {', '.join(sorted(missing))}", code="photo_not_found")
            error.details["ids"] = sorted(missing)
            raise error
        return found

    def timeline(self, owner_id: str, limit: int, cursor: TimelineCursor | None) -> Page:
        check_limit(limit)
        return self._photos.page(owner_id, limit, cursor)

    def edit(self, owner_id: str, photo_id: str, edit: PhotoEdit) -> Photo:
        self.edit_many(owner_id, [photo_id], edit)
        return self.get(owner_id, photo_id)

    def edit_many(self, owner_id: str, photo_ids: Sequence[str], edit: PhotoEdit) -> None:
        """Apply one edit to several photos (all the user's own, or nothing happens)."""
        self.owned(owner_id, photo_ids)
        sort_at = None
        if edit.taken_at is not None:
            offset = edit.taken_at.utcoffset()
            if offset is None:
                raise InvalidInput("taken_at needs a UTC offset", code="invalid_taken_at")
            sort_at = (edit.taken_at - offset).replace(tzinfo=None)
        self._photos.edit(photo_ids, edit, sort_at)

    def derivative_hashes(
        self, photo_ids: list[str], fmt: ThumbFormat
    ) -> dict[tuple[str, ThumbSize], str]:
        """The hashes of these photos' thumbnails and previews already made in ``fmt``."""
        return self._photos.derivative_hashes(photo_ids, fmt)

    def blob(self, sha256: str) -> bytes:
        """Stored bytes by hash (a face crop); the caller has checked access to them."""
        return self._blobs.read(sha256)

    def restore_wait(self, photo: Photo) -> int | None:
        """``None`` when the original can be read now; else a restore is asked for (it is
        cold) and this says how many seconds to wait before asking again."""
        if photo.tier is not Tier.COLD:
            return None
        return self._tiers.request_restore(photo)

    def original_redirect(self, photo: Photo) -> str | None:
        """Where a readable original can be fetched straight from the store (a presigned S3
        URL, when ``presign_seconds`` is set), its read noted; ``None``: serve it here."""
        if not self._presign_seconds:
            return None
        url = self._blobs.presigned_url(
            photo.sha256, photo.filename, photo.mime, self._presign_seconds
        )
        if url is not None:
            self._tiers.record_read(photo, photo.size)
        return url

    def check_intact(self, photo: Photo) -> None:
        """``OriginalDamaged`` when the original is known not to match its hash."""
        if self._damaged.is_damaged(photo.sha256):
            raise OriginalDamaged(
                "the original's bytes are damaged: they no longer match their checksum. An"
                " admin can mend them from the mirror (albumen scrub --repair) or restore them"
                " from a backup"
            )

    def original_range(self, photo: Photo, start: int, end: int) -> Iterator[bytes]:
        """Bytes of a readable original (see ``restore_wait``); the read is noted. A whole
        read is checked against the hash on its way out (``_verified``)."""
        self._tiers.record_read(photo, end - start)
        chunks = self._blobs.iter_range(photo.sha256, start, end)
        if start == 0 and end == photo.size:
            return self._verified(photo, chunks)
        return chunks

    def _verified(self, photo: Photo, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """The chunks, the last held back until the hash agrees. When it does not, the read
        stops there (the client has a body cut short, never a whole wrong file) and the blob
        is noted as damaged, so that the next read answers ``OriginalDamaged``."""
        digest, held = hashlib.sha256(), None
        for chunk in chunks:
            digest.update(chunk)
            if held is not None:
                yield held
            held = chunk
        if digest.hexdigest() != photo.sha256:
            self._damaged.mark(photo.sha256, "read", self._clock.now())
            log.error(
                "a damaged original was read", extra={"photo_id": photo.id, "sha256": photo.sha256}
            )
            raise IntegrityError(f"the original of photo {photo.id} does not match its hash")
        if held is not None:
            yield held

    def thumbnail(
        self,
        user_id: str,
        photo_id: str,
        size: ThumbSize,
        fmt: ThumbFormat,
        cached: CachedThumbnail | None = None,
    ) -> ThumbnailBytes:
        """Thumbnail bytes for someone who may see the photo (checked here, every time): the
        ``cached`` entry the caller already read, else from the store, else made now."""
        photo = self.viewable(user_id, photo_id)
        if cached is not None:
            return cached.found
        return self._fill(photo, size, fmt)

    def thumbnail_of(self, photo: Photo, size: ThumbSize, fmt: ThumbFormat) -> ThumbnailBytes:
        """Thumbnail bytes of a photo the caller may see: from memory, the store, or made now."""
        cached = self._cache.get(_thumb_key(photo.id, size, fmt))
        if cached is not None:
            return _unpacked(cached, fmt).found
        return self._fill(photo, size, fmt)

    def warm(self, user_id: str, photo_id: str, size: ThumbSize, fmt: ThumbFormat) -> int | None:
        """Put a thumbnail the user may see into the cache ahead of a read (the prefetcher).

        Only one already made: rendering on a guess would cost more than a miss. Returns the
        bytes warmed, or ``None`` when it was cached already or is not made yet. A warming is
        no read: it counts as neither a hit nor a miss.
        """
        if self._cache.has(_thumb_key(photo_id, size, fmt)):
            return None
        photo = self.viewable(user_id, photo_id)
        if self._photos.derivative(photo.id, size, fmt) is None:
            return None
        return len(self._fill(photo, size, fmt).data)

    def cached_thumbnail(
        self, photo_id: str, size: ThumbSize, fmt: ThumbFormat
    ) -> CachedThumbnail | None:
        """One cache read, no other I/O: the entry and whose photo it is, or ``None``."""
        cached = self._cache.get(_thumb_key(photo_id, size, fmt))
        return None if cached is None else _unpacked(cached, fmt)

    def _fill(self, photo: Photo, size: ThumbSize, fmt: ThumbFormat) -> ThumbnailBytes:
        """From the store (made now if it never was), then into the cache."""
        derivative = self._photos.derivative(photo.id, size, fmt) or self._render(photo, size, fmt)
        data = self._blobs.read(derivative.sha256)
        entry = photo.owner_id.encode().ljust(36) + derivative.sha256.encode() + data
        self._cache.set(_thumb_key(photo.id, size, fmt), entry)
        return ThumbnailBytes(data, derivative.sha256, fmt.mime)

    def _render(self, photo: Photo, size: ThumbSize, fmt: ThumbFormat) -> Derivative:
        if photo.status is PhotoStatus.FAILED:
            raise Conflict(f"this photo could not be processed: {photo.error}", code="photo_failed")
        wait = self.restore_wait(photo)
        if wait is not None:
            error = Unavailable(
                "the original is in cold storage: it is being restored, try again later",
                code="in_cold_storage",
            )
            error.details["retry_after"] = wait
            raise error
        path = self._blobs.local_path(photo.sha256)
        rendition = self._thumbnailer.render(path, media_type(photo.mime), [size], fmt)[0]
        derivative = store_rendition(self._blobs, photo.id, rendition)
        self._photos.add_derivative(derivative)
        return derivative


def store_rendition(blobs: BlobStore, photo_id: str, rendition: Rendition) -> Derivative:
    """Put a rendition's bytes in the blob store; the record that points at them."""
    return Derivative(
        photo_id,
        rendition.size,
        rendition.format,
        blobs.put_bytes(rendition.data),
        len(rendition.data),
        rendition.width,
        rendition.height,
    )


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", code="invalid_limit")


def _unpacked(entry: bytes, fmt: ThumbFormat) -> CachedThumbnail:
    """A cache entry: the owner's id (36 bytes, padded), the bytes' hash (64), the bytes."""
    found = ThumbnailBytes(entry[100:], entry[36:100].decode(), fmt.mime)
    return CachedThumbnail(found, entry[:36].decode().rstrip())


def _thumb_key(photo_id: str, size: ThumbSize, fmt: ThumbFormat) -> str:
    return f"thumb:{photo_id}:{size.value}:{fmt.value}"
