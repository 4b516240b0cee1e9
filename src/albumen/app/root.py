"""One library, built: its infrastructure, its use cases and its operations; and the work a
server or a worker starts with it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from albumen.adapters.db.monitor import QueryMonitor
from albumen.app.infrastructure import Infrastructure, build_infrastructure
from albumen.app.operations import Operations, build_operations
from albumen.app.services import Services, build_services
from albumen.config import Settings
from albumen.domain.jobs import JobName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Albumen:
    infrastructure: Infrastructure
    services: Services
    operations: Operations

    def close(self) -> None:
        self.services.close()
        self.operations.close()
        self.infrastructure.close()


def build(settings: Settings) -> Albumen:
    """The whole library the settings name."""
    queries = QueryMonitor(settings.slow_query_ms)
    infrastructure = build_infrastructure(settings, queries)
    services = build_services(infrastructure)
    return Albumen(infrastructure, services, build_operations(infrastructure, services, queries))


def start_background_work(albumen: Albumen) -> None:
    """After a restart: queue unfinished photos again, finish uploads a crash interrupted,
    and tidy the store."""
    albumen.services.processing.recover()
    queue = albumen.infrastructure.queue
    for job in (
        JobName.SWEEP_BLOBS,
        JobName.EXPIRE_UPLOADS,
        JobName.FINISH_UPLOADS,
        JobName.EXPIRE_TRASH,
        JobName.LOCATE_PHOTOS,
        JobName.WRITE_SIDECARS,
    ):
        queue.enqueue(job)


@contextmanager
def monitoring(operations: Operations, interval: float) -> Iterator[None]:
    """Snapshots for the dashboard and the alert rules judged, in a thread, while serving."""
    stop = threading.Event()
    sampler = operations.sampler

    def loop() -> None:
        next_evaluation = time.monotonic() + interval
        while not stop.wait(sampler.every):
            try:
                if time.monotonic() >= next_evaluation:
                    operations.alerts.evaluate()  # samples too
                    operations.optimizer.tune()
                    next_evaluation += interval
                else:
                    sampler.sample()
            except Exception:
                log.exception("monitoring failed; trying again")

    thread = threading.Thread(target=loop, name="monitoring", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
