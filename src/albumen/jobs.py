"""Job handlers: an id in, an ``Outcome`` out. They delegate to services."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from albumen.adapters import metrics
from albumen.adapters.queue import HueyJobQueue
from albumen.domain.jobs import JobName, Outcome
from albumen.services.analysis import AnalysisService
from albumen.services.people import PeopleService
from albumen.services.processing import ProcessingService, SweepService
from albumen.services.sidecars import SidecarService
from albumen.services.tiers import TierService
from albumen.services.trash import TrashService

log = logging.getLogger(__name__)
# the minute past each hour
HOURLY = {
    JobName.SWEEP_BLOBS: 7,
    JobName.REGROUP_FACES: 27,
    JobName.EXPIRE_UPLOADS: 37,
    JobName.EXPIRE_TRASH: 47,
    JobName.MOVE_TIERS: 17,
    JobName.RECOVER_PHOTOS: 57,
}
EVERY_MINUTE = {JobName.WRITE_SIDECARS}


def register_jobs(
    queue: HueyJobQueue,
    processing: ProcessingService,
    analysis: AnalysisService,
    people: PeopleService,
    sweep: SweepService,
    trash: TrashService,
    sidecars: SidecarService,
    tiers: TierService,
    retries: int,
) -> None:
    handlers: dict[JobName, Callable[[str], Outcome]] = {
        JobName.PROCESS_PHOTO: processing.process_photo,
        JobName.ANALYZE_PHOTO: analysis.analyze_photo,
        JobName.GROUP_FACES: lambda owner_id: _counted(people.group_new_faces(owner_id)),
        JobName.REGROUP_FACES: lambda _arg: _counted(people.regroup_everyone()),
        JobName.SWEEP_BLOBS: lambda _arg: _counted(sweep.sweep_blobs()),
        JobName.EXPIRE_UPLOADS: lambda _arg: _counted(sweep.expire_uploads()),
        JobName.EXPIRE_TRASH: lambda _arg: _counted(trash.expire()),
        JobName.LOCATE_PHOTOS: lambda _arg: _counted(processing.locate_missing()),
        JobName.WRITE_SIDECARS: lambda _arg: _counted(sidecars.flush()),
        JobName.MOVE_TIERS: lambda _arg: _counted(tiers.run_lifecycle()),
        JobName.RESTORE_ORIGINAL: lambda sha256: _counted(tiers.restore(sha256)),
        JobName.RECOVER_PHOTOS: lambda _arg: _counted(processing.recover(stale=True)),
    }
    for job, handler in handlers.items():
        logged = _logged(job, handler)
        queue.register(job, logged, retries)
        if job in HOURLY:
            queue.every_hour(job, logged, minute=HOURLY[job])
        if job in EVERY_MINUTE:
            queue.every_minute(job, logged)


def _counted(removed: int) -> Outcome:
    return Outcome.DONE if removed else Outcome.SKIPPED


def _logged(job: JobName, handler: Callable[[str], Outcome]) -> Callable[[str], str]:
    """The handler, logged and measured (``albumen_job_duration_seconds``, failures)."""
    failures = metrics.job_failures.labels(job.value)

    def run(arg: str) -> str:
        start = time.perf_counter()
        try:
            outcome = handler(arg)
        except Exception:
            metrics.job_duration.labels(job.value, "failed").observe(time.perf_counter() - start)
            failures.inc()
            raise
        metrics.job_duration.labels(job.value, outcome.value).observe(time.perf_counter() - start)
        log.info("job ended", extra={"job": job.value, "arg": arg, "outcome": outcome.value})
        return outcome.value

    run.__name__ = job.value
    return run
