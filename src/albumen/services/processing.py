"""``ProcessingService``: the background work on each photo, and keeping the store tidy.

Every job takes an id, re-reads state, is idempotent and returns an ``Outcome``. A photo's
``status`` moves pending → processing → ready | failed; the original is kept whatever happens.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from albumen.domain.errors import AlbumenError, Unavailable
from albumen.domain.jobs import JobName, Outcome
from albumen.domain.media import media_type
from albumen.domain.metadata import PhotoMetadata, TakenAt, zone_offset_minutes, zone_source
from albumen.domain.photos import Photo, PhotoStatus, ThumbFormat, ThumbSize
from albumen.domain.places import Place
from albumen.ports import (
    BlobStore,
    Clock,
    Geocoder,
    JobQueue,
    MetadataReader,
    PhotoRepo,
    Processes,
    Thumbnailer,
    UploadParts,
    UploadRepo,
)
from albumen.services.photos import store_rendition

log = logging.getLogger(__name__)
TRIED_AGAIN = "not processed yet: the server met an error; it will try again"
# How long a worker's claim on a photo holds: another may take the photo after that (the first
# died), and the recovery job queues it again. Far above the slowest photo's processing.
PROCESSING_LEASE = timedelta(minutes=15)


class ProcessingService:
    def __init__(
        self,
        photos: PhotoRepo,
        blobs: BlobStore,
        reader: MetadataReader,
        thumbnailer: Thumbnailer,
        geocoder: Geocoder,
        queue: JobQueue,
        clock: Clock,
        analyse: bool = False,
        processes: Processes | None = None,
    ) -> None:
        self._processes = processes
        self._photos = photos
        self._blobs = blobs
        self._reader = reader
        self._geocoder = geocoder
        self._analyse = analyse
        self._thumbnailer = thumbnailer
        self._queue = queue
        self._clock = clock

    def process_photo(self, photo_id: str) -> Outcome:
        """Metadata, then thumbnails. Bad media fails the photo; anything else is retried."""
        now = self._clock.now()
        me = self._processes.me() if self._processes is not None else ""
        if not self._photos.claim(photo_id, now, now - PROCESSING_LEASE, me):
            return Outcome.SKIPPED  # ready, gone, or another worker has it
        photo = self._photos.get(photo_id)
        if photo is None:
            return Outcome.SKIPPED
        try:
            self._process(photo)
        except Unavailable:
            # a store or database away is not the photo's fault: it waits (below)
            self._photos.set_status(photo_id, PhotoStatus.PENDING, TRIED_AGAIN)
            raise
        except AlbumenError as err:
            self._photos.set_status(photo_id, PhotoStatus.FAILED, err.message)
            log.warning("photo failed", extra={"photo_id": photo_id, "code": err.code})
            return Outcome.FAILED
        except Exception:
            # not the photo's fault (a full disk, a store or database away, a bug): it waits,
            # and is processed again by the queue's retries or the recovery after them
            self._photos.set_status(photo_id, PhotoStatus.PENDING, TRIED_AGAIN)
            raise
        if self._analyse:
            self._queue.enqueue(JobName.ANALYZE_PHOTO, photo_id)
        return Outcome.DONE

    def _process(self, photo: Photo) -> None:
        path = self._blobs.local_path(photo.sha256)
        media = media_type(photo.mime)
        read = self._reader.read(path, media)
        if read.taken_at is None and photo.file_modified is not None:
            read = replace(read, taken_at=photo.file_modified)  # no date inside: the file's
        metadata, place = self._locate(read)
        self._photos.save_metadata(photo.id, metadata, _sort_at(metadata, photo), place)
        sizes = [ThumbSize.THUMB, ThumbSize.PREVIEW]
        renditions = self._thumbnailer.render(path, media, sizes, ThumbFormat.WEBP)
        derivatives = [store_rendition(self._blobs, photo.id, r) for r in renditions]
        thumb = next(r for r in renditions if r.size is ThumbSize.THUMB)
        self._photos.finish(photo.id, self._thumbnailer.placeholder(thumb), derivatives)
        log.info("photo processed", extra={"photo_id": photo.id})

    def _locate(self, metadata: PhotoMetadata) -> tuple[PhotoMetadata, Place | None]:
        """The place name of the GPS position; and, for a date taken without a UTC offset,
        the offset of the time zone at that position."""
        where, taken = metadata.location, metadata.taken_at
        if where is None:
            return metadata, None
        place = self._geocoder.place(where.lat, where.lon)
        if taken is None or taken.offset_minutes is not None:
            return metadata, place
        zone = self._geocoder.timezone(where.lat, where.lon)
        offset = None if zone is None else zone_offset_minutes(zone, taken.local)
        if zone is None or offset is None:
            return metadata, place
        taken = TakenAt(taken.local, offset, zone_source(taken.source, zone))
        return replace(metadata, taken_at=taken), place

    def locate_missing(self, batch: int = 500) -> int:
        """Name the places of photos located before place names were looked up."""
        done = 0
        while found := self._photos.unplaced(batch):
            for photo in found:
                where = photo.metadata.location if photo.metadata else None
                if where is not None:
                    place = self._geocoder.place(where.lat, where.lon)
                    self._photos.set_place(photo.id, place or _NOWHERE)
            done += len(found)
        return done

    def recover(self, stale: bool = False) -> int:
        """Queue again every photo whose processing had not ended (after a crash or restart).

        With ``stale``, only those whose job may have been lost: claimed by a worker that has
        not finished within the lease (it died), or, when the queue is empty (it lost its
        contents: Redis restarted without its data), still pending a lease after their
        upload. A copy of a job that was not lost is skipped by its claim."""
        if self._processes is not None:  # a worker of this host that died: its photos again
            gone = [c for c in self._photos.claimers() if self._processes.gone(c)]
            if gone:
                self._photos.release(gone)
        if stale:
            idle = self._queue.stats().pending == 0
            before = self._clock.now() - PROCESSING_LEASE
            unfinished = self._photos.unfinished(before, pending=idle)
        else:
            unfinished = self._photos.unfinished()
        for photo_id in unfinished:
            self._queue.enqueue(JobName.PROCESS_PHOTO, photo_id)
        if unfinished:
            log.info("requeued unfinished photos", extra={"count": len(unfinished)})
        return len(unfinished)


_NOWHERE = Place("", "", "", "")  # a position no place is near (open sea): looked up once


def _sort_at(metadata: PhotoMetadata, photo: Photo) -> datetime:
    taken = metadata.taken_at
    if taken is None:
        return photo.created_at
    return taken.utc or taken.local


class SweepService:
    """Removes what no record refers to: unreferenced blobs, stale staging, expired uploads."""

    def __init__(
        self,
        photos: PhotoRepo,
        blobs: BlobStore,
        uploads: UploadRepo,
        parts: UploadParts,
        clock: Clock,
        grace: timedelta,
        upload_expiry: timedelta,
    ) -> None:
        self._photos = photos
        self._blobs = blobs
        self._uploads = uploads
        self._parts = parts
        self._clock = clock
        self._grace = grace
        self._upload_expiry = upload_expiry

    def sweep_blobs(self, grace: timedelta | None = None) -> int:
        """Delete blobs older than the grace period that no photo or derivative refers to.

        A blob is written before its photo row, so a young unreferenced blob may be an upload
        in flight: the grace period keeps it.
        """
        cutoff = self._clock.now() - (self._grace if grace is None else grace)
        self._blobs.discard_stale_staging(cutoff)
        removed = 0
        candidates = list(self._blobs.list_older_than(cutoff))
        referenced = self._photos.referenced(candidates)
        for sha256 in candidates:
            # re-checks the age: a duplicate upload may have just touched it to claim it
            if sha256 not in referenced and self._blobs.delete(sha256, older_than=cutoff):
                removed += 1
        log.info("blob sweep", extra={"checked": len(candidates), "removed": removed})
        return removed

    def expire_uploads(self) -> int:
        expired = self._uploads.older_than(self._clock.now() - self._upload_expiry)
        for upload in expired:
            self._parts.remove(upload.id)
            self._uploads.delete(upload.id)
        return len(expired)
