"""``JobService``: what the background work is doing."""

from __future__ import annotations

from dataclasses import dataclass

from albumen.domain.jobs import JobName, QueueStats
from albumen.domain.photos import Photo, PhotoStatus
from albumen.ports import JobQueue, PhotoRepo


@dataclass(frozen=True, slots=True)
class JobsOverview:
    queue: QueueStats
    photos: dict[PhotoStatus, int]
    failures: list[Photo]


RETRY_AT_ONCE = 10_000  # failed photos queued again by one retry


class JobService:
    def __init__(self, queue: JobQueue, photos: PhotoRepo) -> None:
        self._queue = queue
        self._photos = photos

    def overview(self, owner_id: str, failures: int = 50) -> JobsOverview:
        """The queue as a whole; the owner's own photos by status and their latest failures."""
        return JobsOverview(
            self._queue.stats(),
            self._photos.status_counts(owner_id),
            self._photos.failures(owner_id, failures),
        )

    def failed(self) -> int:
        """How many photos of every user failed to be processed."""
        return self._photos.failed(0)[1]

    def retry_failed(self) -> int:
        """Process the failed photos of every user again (up to ``RETRY_AT_ONCE``): after an
        upgrade that reads what could not be read before, or a fault that was taken for bad
        media. Each is pending until its job runs; how many were queued."""
        ids, _ = self._photos.failed(RETRY_AT_ONCE)
        for photo_id in ids:
            self._photos.set_status(photo_id, PhotoStatus.PENDING)
            self._queue.enqueue(JobName.PROCESS_PHOTO, photo_id)
        return len(ids)
