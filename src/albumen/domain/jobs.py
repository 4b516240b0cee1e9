"""Background work: which jobs exist and how one ends."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class JobName(StrEnum):
    PROCESS_PHOTO = "process_photo"  # metadata, then thumbnails; later ML
    SWEEP_BLOBS = "sweep_blobs"
    EXPIRE_UPLOADS = "expire_uploads"
    FINISH_UPLOADS = "finish_uploads"  # complete uploads that a crash left without their photo
    EXPIRE_TRASH = "expire_trash"  # delete for good what stayed in the trash too long
    ANALYZE_PHOTO = "analyze_photo"  # faces, tags and embedding, after the thumbnails
    GROUP_FACES = "group_faces"  # new faces of one owner into people
    REGROUP_FACES = "regroup_faces"  # all faces by density, correcting the incremental grouping
    LOCATE_PHOTOS = "locate_photos"  # place names for photos located before they existed
    WRITE_SIDECARS = "write_sidecars"  # metadata sidecars of what changed, beside the blobs
    MOVE_TIERS = "move_tiers"  # originals to the tier the lifecycle policy says
    RESTORE_ORIGINAL = "restore_original"  # a cold original back to hot, asked for by a read
    RECOVER_PHOTOS = "recover_photos"  # queue again photos whose processing job was lost


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a job also runs by itself: hourly at ``minute`` past, or every minute (``None``)."""

    minute: int | None = None


class Queue(StrEnum):
    """Jobs go to one of three queues, so that workers can be given to each apart
    (``albumen worker --queues media``): a photo's thumbnails never wait behind the models."""

    MEDIA = "media"  # a photo's metadata and thumbnails; originals back from cold storage
    ANALYSIS = "analysis"  # the models: faces, tags, likeness; faces grouped into people
    UPKEEP = "upkeep"  # sweeps, expiry, sidecars, tier moves, recovery


QUEUE_OF = {
    JobName.PROCESS_PHOTO: Queue.MEDIA,
    JobName.RESTORE_ORIGINAL: Queue.MEDIA,
    JobName.LOCATE_PHOTOS: Queue.MEDIA,
    JobName.ANALYZE_PHOTO: Queue.ANALYSIS,
    JobName.GROUP_FACES: Queue.ANALYSIS,
    JobName.REGROUP_FACES: Queue.ANALYSIS,
    JobName.SWEEP_BLOBS: Queue.UPKEEP,
    JobName.EXPIRE_UPLOADS: Queue.UPKEEP,
    JobName.FINISH_UPLOADS: Queue.UPKEEP,
    JobName.EXPIRE_TRASH: Queue.UPKEEP,
    JobName.WRITE_SIDECARS: Queue.UPKEEP,
    JobName.MOVE_TIERS: Queue.UPKEEP,
    JobName.RECOVER_PHOTOS: Queue.UPKEEP,
}


class Outcome(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int
    scheduled: int
    running: int
    failed: int
