"""``TrashService``: trash, restore, empty; and deleting for good what stayed too long.

A blob goes only when no photo of any user and no thumbnail refers to it any more: two users
who uploaded the same file each own a photo of one blob.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from albumen.domain.photos import Page, Purged, TimelineCursor
from albumen.ports import BlobStore, Clock, PhotoRepo
from albumen.services.photos import PhotoService, check_limit

log = logging.getLogger(__name__)
_BATCH = 500


class TrashService:
    def __init__(
        self,
        photos: PhotoService,
        repo: PhotoRepo,
        blobs: BlobStore,
        clock: Clock,
        retention: timedelta,
        grace: timedelta,
    ) -> None:
        self._photos = photos
        self._repo = repo
        self._blobs = blobs
        self._clock = clock
        self.retention = retention
        self._grace = grace

    def trash(self, owner_id: str, photo_ids: Sequence[str]) -> list[str]:
        """Move the user's photos to the trash; the ids that were not there already."""
        self._photos.owned(owner_id, photo_ids)
        return self._repo.set_deleted(photo_ids, self._clock.now())

    def restore(self, owner_id: str, photo_ids: Sequence[str]) -> list[str]:
        self._photos.owned(owner_id, photo_ids)
        return self._repo.set_deleted(photo_ids, None)

    def page(self, owner_id: str, limit: int, cursor: TimelineCursor | None) -> Page:
        check_limit(limit)
        return self._repo.trash_page(owner_id, limit, cursor)

    def empty(self, owner_id: str, photo_ids: Sequence[str]) -> list[str]:
        """Delete for good these photos of the trash (the ids the user saw there and confirmed);
        anything else, trashed since or not trashed, stays. Returns the ids removed."""
        removed: list[str] = []
        for start in range(0, len(photo_ids), _BATCH):
            purged = self._repo.purge(photo_ids[start : start + _BATCH], owner_id)
            self._free(purged)
            removed += purged.photo_ids
        log.info("trash emptied", extra={"owner_id": owner_id, "count": len(removed)})
        return removed

    def expire(self) -> int:
        """Delete for good what has been in the trash longer than the retention period."""
        cutoff = self._clock.now() - self.retention
        removed = 0
        while ids := self._repo.trashed_before(cutoff, _BATCH):
            purged = self._repo.purge(ids)
            self._free(purged)
            removed += len(purged.photo_ids)
            if not purged.photo_ids:
                break
        if removed:
            log.info("trash expired", extra={"count": removed})
        return removed

    def _free(self, purged: Purged) -> None:
        hashes = sorted(purged.hashes)
        still_used = self._repo.referenced(hashes)
        # A blob touched within the grace period may be a new upload of the same bytes.
        cutoff = self._clock.now() - self._grace
        for sha256 in hashes:
            if sha256 not in still_used:
                self._blobs.delete(sha256, older_than=cutoff)
