"""Background work: which jobs exist and how one ends."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class JobName(StrEnum):
    PROCESS_PHOTO = "process_photo"  # metadata, then thumbnails; later ML
    SWEEP_BLOBS = "sweep_blobs"
    EXPIRE_UPLOADS = "expire_uploads"
    EXPIRE_TRASH = "expire_trash"  # delete for good what stayed in the trash too long
    ANALYZE_PHOTO = "analyze_photo"  # faces, tags and embedding, after the thumbnails
    GROUP_FACES = "group_faces"  # new faces of one owner into people
    REGROUP_FACES = "regroup_faces"  # all faces by density, correcting the incremental grouping
    LOCATE_PHOTOS = "locate_photos"  # place names for photos located before they existed
    WRITE_SIDECARS = "write_sidecars"  # metadata sidecars of what changed, beside the blobs
    MOVE_TIERS = "move_tiers"  # originals to the tier the lifecycle policy says
    RESTORE_ORIGINAL = "restore_original"  # a cold original back to hot, asked for by a read
    RECOVER_PHOTOS = "recover_photos"  # queue again photos whose processing job was lost


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
