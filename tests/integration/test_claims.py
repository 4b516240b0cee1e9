"""Processing claims: one worker at a time per photo, another only after the lease, and the
recovery job finds what a dead worker or an emptied queue left behind."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timedelta

import psutil
from sqlalchemy import Engine

from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.queue import HueyJobQueue
from albumen.adapters.system import SystemProcesses
from albumen.app.services import Services
from albumen.domain.jobs import Outcome
from albumen.domain.photos import NewPhoto, PhotoStatus
from albumen.services.processing import PROCESSING_LEASE
from tests.conftest import make_jpeg

NOW = datetime(2026, 1, 1, 12)


def test_a_claimed_photo_is_not_claimed_again_until_its_lease_runs_out(
    services: Services,
    engine: Engine,
) -> None:
    repo = SqlPhotoRepo(engine)
    owner = services.users.add("alice").user.id
    photo, _ = repo.add(NewPhoto(owner, "a.jpg", "image/jpeg", 1, "a" * 64), NOW)
    stale = NOW - PROCESSING_LEASE
    assert repo.claim(photo.id, NOW, stale)
    later = NOW + timedelta(minutes=1)
    assert not repo.claim(photo.id, later, later - PROCESSING_LEASE)  # a second copy of the job
    assert repo.unfinished(later - PROCESSING_LEASE, pending=False) == []
    dead = NOW + PROCESSING_LEASE + timedelta(seconds=1)  # its worker died
    assert repo.unfinished(dead - PROCESSING_LEASE, pending=False) == [photo.id]
    assert repo.claim(photo.id, dead, dead - PROCESSING_LEASE)
    repo.set_status(photo.id, PhotoStatus.FAILED, "boom")
    assert repo.claim(photo.id, dead, dead - PROCESSING_LEASE)  # a retry takes a failed one
    repo.set_status(photo.id, PhotoStatus.READY)
    assert not repo.claim(photo.id, dead + PROCESSING_LEASE * 2, dead)


def test_two_copies_of_a_processing_job_process_the_photo_once(
    services: Services, engine: Engine
) -> None:
    owner = services.users.add("alice").user.id
    writer = services.photos.stage()
    writer.write(make_jpeg(seed=3))
    photo = services.photos.ingest(owner, "a.jpg", writer.finish()).photo
    repo = SqlPhotoRepo(engine)
    now = datetime.now()
    assert repo.claim(photo.id, now, now - PROCESSING_LEASE)  # another worker has it
    assert services.processing.process_photo(photo.id) is Outcome.SKIPPED
    assert services.processing.recover(stale=True) == 0  # its claim is young
    repo.set_status(photo.id, PhotoStatus.PENDING)  # as if that worker's claim never came
    assert services.processing.process_photo(photo.id) is Outcome.DONE
    assert services.processing.process_photo(photo.id) is Outcome.SKIPPED  # ready now


def test_a_photo_claimed_by_a_worker_of_this_host_that_died_is_processed_at_restart(
    services: Services,
    queue: HueyJobQueue,
    engine: Engine,
) -> None:
    owner = services.users.add("alice").user.id
    writer = services.photos.stage()
    writer.write(make_jpeg(seed=5))
    photo = services.photos.ingest(owner, "a.jpg", writer.finish()).photo
    queue.run_pending()  # ready; now make it look half-done by a dead process
    repo = SqlPhotoRepo(engine)
    repo.set_status(photo.id, PhotoStatus.PENDING)
    now = datetime.now()
    dead = f"{socket.gethostname()}:{2**22 + 7}:1"  # no such process on this host
    elsewhere = "another-host:1:1"  # another machine's worker: only its lease tells
    assert repo.claim(photo.id, now, now - PROCESSING_LEASE, dead)
    assert repo.claimers() == {dead}
    assert SystemProcesses().gone(dead)
    assert not SystemProcesses().gone(elsewhere)
    assert not SystemProcesses().gone(SystemProcesses().me())
    assert services.processing.recover() == 1  # released, then queued again
    queue.run_pending()
    assert services.photos.get(owner, photo.id).status is PhotoStatus.READY


def test_a_dead_process_not_yet_collected_is_gone() -> None:
    """A zombie (ended, its status not yet read by its parent) is a dead worker: a killed
    worker's children wait as zombies until init collects them, and their claims were held."""
    child = os.fork()
    if child == 0:
        os._exit(0)  # the child ends at once; the test does not collect it yet
    try:
        zombie = psutil.Process(child)
        name = f"{socket.gethostname()}:{child}:{zombie.create_time():.0f}"
        while zombie.status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)
        assert SystemProcesses().gone(name)
    finally:
        os.waitpid(child, 0)
