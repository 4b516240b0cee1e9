"""``JobService``: what the background work is doing."""

from __future__ import annotations

from dataclasses import dataclass

from albumen.domain.jobs import QueueStats
from albumen.domain.photos import Photo, PhotoStatus
from albumen.ports import JobQueue, PhotoRepo


@dataclass(frozen=True, slots=True)
class JobsOverview:
    queue: QueueStats
    photos: dict[PhotoStatus, int]
    failures: list[Photo]


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
