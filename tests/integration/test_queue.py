"""The huey queue as wired by the app: retries, periodic housekeeping, stats."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from albumen.adapters.queue import _has_redis, make_hueys
from albumen.app import Services, build_services
from albumen.config import Settings
from albumen.domain.jobs import QUEUE_OF, JobName, Queue


def test_housekeeping_runs_every_hour_and_sidecars_every_minute(services: Services) -> None:
    huey = services.queue.hueys[Queue.UPKEEP]
    at_7 = {task.name for task in huey.read_periodic(datetime(2026, 1, 1, 3, 7))}
    at_37 = {task.name for task in huey.read_periodic(datetime(2026, 1, 1, 3, 37))}
    at_8 = {task.name for task in huey.read_periodic(datetime(2026, 1, 1, 3, 8))}
    assert at_7 == {"sweep_blobs_hourly", "write_sidecars_minutely"}
    assert at_37 == {"expire_uploads_hourly", "write_sidecars_minutely"}
    assert at_8 == {"write_sidecars_minutely"}


def test_queued_work_survives_a_restart(settings: Settings) -> None:
    before = build_services(settings)
    before.queue.enqueue(JobName.SWEEP_BLOBS)
    before.close()
    after = build_services(settings)
    assert after.queue.stats().pending == 1
    assert after.queue.run_pending() == 1
    assert after.queue.stats().pending == 0
    after.close()


@pytest.mark.skipif(_has_redis(), reason="the redis extra is installed")
def test_redis_url_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"albumen\[redis\]"):
        make_hueys("redis://127.0.0.1:6379/0", tmp_path / "queue.db")


def test_every_job_has_its_queue_and_each_queue_its_own_consumers(services: Services) -> None:
    assert set(QUEUE_OF) == set(JobName)
    services.queue.enqueue(JobName.PROCESS_PHOTO, "no-such-photo")
    services.queue.enqueue(JobName.ANALYZE_PHOTO, "no-such-photo")
    services.queue.enqueue(JobName.SWEEP_BLOBS)
    pending = {queue: huey.pending_count() for queue, huey in services.queue.hueys.items()}
    assert pending == {Queue.MEDIA: 1, Queue.ANALYSIS: 1, Queue.UPKEEP: 1}
    assert services.queue.stats().pending == 3
    assert services.queue.run_pending() == 3
