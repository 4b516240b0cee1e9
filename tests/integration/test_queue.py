"""The huey queue as wired by the app: retries, periodic housekeeping, stats."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

import pytest

from albumen.adapters.queue import HueyJobQueue
from albumen.app.infrastructure import redis_client
from albumen.app.root import build
from albumen.app.services import Services
from albumen.config import Settings
from albumen.domain.jobs import QUEUE_OF, JobName, Queue


def test_housekeeping_runs_every_hour_and_sidecars_every_minute(
    services: Services, queue: HueyJobQueue
) -> None:
    huey = queue.hueys[Queue.UPKEEP]
    at_7 = {task.name for task in huey.read_periodic(datetime(2026, 1, 1, 3, 7))}
    at_37 = {task.name for task in huey.read_periodic(datetime(2026, 1, 1, 3, 37))}
    at_8 = {task.name for task in huey.read_periodic(datetime(2026, 1, 1, 3, 8))}
    assert at_7 == {"sweep_blobs_hourly", "write_sidecars_minutely"}
    assert at_37 == {"expire_uploads_hourly", "write_sidecars_minutely"}
    assert at_8 == {"write_sidecars_minutely"}


def test_queued_work_survives_a_restart(settings: Settings) -> None:
    before = build(settings)
    before.infrastructure.queue.enqueue(JobName.SWEEP_BLOBS)
    before.close()
    after = build(settings)
    assert after.infrastructure.queue.stats().pending == 1
    assert after.infrastructure.queue.run_pending() == 1
    assert after.infrastructure.queue.stats().pending == 0
    after.close()


@pytest.mark.skipif(
    importlib.util.find_spec("redis") is not None, reason="the redis extra is installed"
)
def test_redis_url_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"albumen\[redis\]"):
        redis_client(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0"))


def test_every_job_has_its_queue_and_each_queue_its_own_consumers(
    services: Services, queue: HueyJobQueue
) -> None:
    assert set(QUEUE_OF) == set(JobName)
    queue.enqueue(JobName.PROCESS_PHOTO, "no-such-photo")
    queue.enqueue(JobName.ANALYZE_PHOTO, "no-such-photo")
    queue.enqueue(JobName.SWEEP_BLOBS)
    pending = {queue: huey.pending_count() for queue, huey in queue.hueys.items()}
    assert pending == {Queue.MEDIA: 1, Queue.ANALYSIS: 1, Queue.UPKEEP: 1}
    assert queue.stats().pending == 3
    assert queue.run_pending() == 3
