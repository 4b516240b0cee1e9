"""Every job, in one table: its name, what runs it, and when it also runs by itself.

A handler takes the use cases and the job's argument (a photo's id, an owner's, a hash, or
nothing) and returns an ``Outcome``; the queue (``ports.JobQueue``) registers each, retries
it, logs and measures it. Adding a job is one row here and its name in ``domain.jobs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from albumen.domain.jobs import JobName, Outcome, Schedule
from albumen.ports import JobQueue
from albumen.services.analysis import AnalysisService
from albumen.services.people import PeopleService
from albumen.services.processing import ProcessingService, SweepService
from albumen.services.sidecars import SidecarService
from albumen.services.tiers import TierService
from albumen.services.trash import TrashService
from albumen.services.uploads import UploadService


class UseCases(Protocol):
    """The use cases the jobs call (``app.services.Services`` has them)."""

    @property
    def processing(self) -> ProcessingService: ...
    @property
    def analysis(self) -> AnalysisService: ...
    @property
    def people(self) -> PeopleService: ...
    @property
    def sweep(self) -> SweepService: ...
    @property
    def uploads(self) -> UploadService: ...
    @property
    def trash(self) -> TrashService: ...
    @property
    def sidecars(self) -> SidecarService: ...
    @property
    def tiers(self) -> TierService: ...


Handler = Callable[[UseCases, str], Outcome]


@dataclass(frozen=True, slots=True)
class Job:
    name: JobName
    run: Handler
    schedule: Schedule | None = None  # also run by itself; else only when queued


def _counted(done: int) -> Outcome:
    return Outcome.DONE if done else Outcome.SKIPPED


JOBS: tuple[Job, ...] = (
    Job(JobName.PROCESS_PHOTO, lambda s, photo_id: s.processing.process_photo(photo_id)),
    Job(JobName.ANALYZE_PHOTO, lambda s, photo_id: s.analysis.analyze_photo(photo_id)),
    Job(JobName.GROUP_FACES, lambda s, owner_id: _counted(s.people.group_new_faces(owner_id))),
    Job(JobName.REGROUP_FACES, lambda s, _: _counted(s.people.regroup_everyone()), Schedule(27)),
    Job(JobName.SWEEP_BLOBS, lambda s, _: _counted(s.sweep.sweep_blobs()), Schedule(7)),
    Job(JobName.EXPIRE_UPLOADS, lambda s, _: _counted(s.sweep.expire_uploads()), Schedule(37)),
    Job(JobName.FINISH_UPLOADS, lambda s, _: _counted(s.uploads.finish_stranded()), Schedule(39)),
    Job(JobName.EXPIRE_TRASH, lambda s, _: _counted(s.trash.expire()), Schedule(47)),
    Job(JobName.LOCATE_PHOTOS, lambda s, _: _counted(s.processing.locate_missing())),
    Job(JobName.WRITE_SIDECARS, lambda s, _: _counted(s.sidecars.flush()), Schedule()),
    Job(JobName.MOVE_TIERS, lambda s, _: _counted(s.tiers.run_lifecycle()), Schedule(17)),
    Job(JobName.RESTORE_ORIGINAL, lambda s, sha256: _counted(s.tiers.restore(sha256))),
    Job(
        JobName.RECOVER_PHOTOS,
        lambda s, _: _counted(s.processing.recover(stale=True)),
        Schedule(57),
    ),
)


def register_jobs(queue: JobQueue, services: UseCases, retries: int) -> None:
    """Give the queue every job of the table, bound to ``services``."""
    for job in JOBS:
        queue.register(job.name, _bound(job.run, services), retries, job.schedule)


def _bound(run: Handler, services: UseCases) -> Callable[[str], Outcome]:
    return lambda arg: run(services, arg)
