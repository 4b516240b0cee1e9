"""``HueyJobQueue``: one task-queue API over SQLite (embedded) or Redis (at scale).

Each of the three queues (``domain.jobs.Queue``) is a huey instance of its own: its own list in
Redis, its own rows in the SQLite file, its own consumers. The media queue keeps the name the
single queue had ("albumen"), so jobs queued before an upgrade still run.
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey, crontab, signals
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer

from albumen.domain.jobs import QUEUE_OF, JobName, Queue, QueueStats

log = logging.getLogger(__name__)
RETRY_DELAY_SECONDS = 5


HUEY_NAMES = {
    Queue.MEDIA: "albumen",
    Queue.ANALYSIS: "albumen-analysis",
    Queue.UPKEEP: "albumen-upkeep",
}


def make_hueys(redis_url: str, sqlite_path: Path) -> dict[Queue, Huey]:
    """A huey instance per queue: on Redis when a URL is given, else in one SQLite file."""
    if redis_url and not _has_redis():
        raise RuntimeError("ALBUMEN_REDIS_URL needs the redis extra: pip install 'albumen[redis]'")
    if not redis_url:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        queue: (
            RedisHuey(name, url=redis_url, results=False)
            if redis_url
            else SqliteHuey(name, filename=str(sqlite_path), results=False, fsync=True)
        )
        for queue, name in HUEY_NAMES.items()
    }


def _unreachable(err: Exception) -> bool:
    """Whether ``err`` says the queue's server could not be reached (not a bug of ours)."""
    if not _has_redis():
        return False
    from redis.exceptions import ConnectionError, TimeoutError

    return isinstance(err, ConnectionError | TimeoutError)


def _has_redis() -> bool:
    return importlib.util.find_spec("redis") is not None


class HueyJobQueue:
    def __init__(self, hueys: dict[Queue, Huey]) -> None:
        self.hueys = hueys
        self._tasks: dict[JobName, TaskWrapper] = {}
        self._running = 0
        self._failed = 0
        self._lock = threading.Lock()
        for huey in hueys.values():
            huey.signal(signals.SIGNAL_EXECUTING)(self._started)
            huey.signal(signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR)(self._ended)

    def register(self, job: JobName, handler: Callable[[str], Any], retries: int) -> None:
        """Make ``handler`` the code that runs ``job``, retried with exponential backoff."""
        self._tasks[job] = self.hueys[QUEUE_OF[job]].task(
            retries=retries,
            retry_delay=RETRY_DELAY_SECONDS,
            retry_backoff=2,
            name=job.value,
        )(handler)

    def every_hour(self, job: JobName, handler: Callable[[str], Any], minute: int) -> None:
        """Also run ``job`` once an hour, at ``minute``, from any worker's scheduler."""
        name = f"{job.value}_hourly"
        self.hueys[QUEUE_OF[job]].periodic_task(crontab(minute=str(minute)), name=name)(
            lambda: self._once(job, name, 60) and handler("")
        )

    def every_minute(self, job: JobName, handler: Callable[[str], Any]) -> None:
        """Also run ``job`` every minute, from any worker's scheduler."""
        name = f"{job.value}_minutely"
        self.hueys[QUEUE_OF[job]].periodic_task(crontab(), name=name)(
            lambda: self._once(job, name, 1) and handler("")
        )

    def _once(self, job: JobName, name: str, period_minutes: int) -> bool:
        """Whether this copy of a periodic task is the first of its period. Every consumer
        (each API process, each ``albumen worker``) runs a scheduler that queues the task;
        the first copy to run marks the period in the queue's storage and the others let it
        be. On Redis the mark is one atomic ``SET NX EX``; on SQLite (one machine) a time."""
        storage = self.hueys[QUEUE_OF[job]].storage
        key, span = f"albumen:periodic:{name}", period_minutes * 60 - 10
        try:
            return bool(storage.put_if_empty(key, b"1", ttl=span))
        except NotImplementedError:  # SQLite's storage has no expiry
            last = storage.peek_data(key)
            now = time.time()
            if isinstance(last, bytes) and now - float(last) < span:
                return False
            storage.put_data(key, str(now).encode())
            return True

    def enqueue(self, job: JobName, arg: str = "") -> None:
        """Queue a job. When the queue cannot be reached (Redis down) the caller goes on: what
        the job was for is kept in the database (a pending photo), and the recovery job queues
        it again once the queue is back; ``/readyz`` says the queue is failing meanwhile."""
        try:
            self._tasks[job](arg)
        except Exception as err:  # redis-py's ConnectionError, TimeoutError, ...
            if not _unreachable(err):
                raise
            log.warning("queue unreachable, job not queued", extra={"job": job.value, "arg": arg})

    def stats(self) -> QueueStats:
        return QueueStats(
            pending=sum(huey.pending_count() for huey in self.hueys.values()),
            scheduled=sum(huey.scheduled_count() for huey in self.hueys.values()),
            running=self._running,
            failed=self._failed,
        )

    def run_pending(self) -> int:
        """Run queued tasks in this thread until every queue is empty; for tests and the CLI
        (a job may queue another, on any queue: thumbnails, then the models)."""
        ran = 0
        while True:
            before = ran
            for huey in self.hueys.values():
                # asked first: on Redis an empty queue's dequeue blocks for a second
                while huey.pending_count() and (task := huey.dequeue()) is not None:
                    huey.execute(task)
                    ran += 1
            if ran == before:
                return ran

    def _started(self, _signal: str, _task: Any, *_: Any) -> None:
        with self._lock:
            self._running += 1

    def _ended(self, signal: str, _task: Any, *_: Any) -> None:
        with self._lock:
            self._running -= 1
            if signal == signals.SIGNAL_ERROR:
                self._failed += 1


class _QuietConsumer(Consumer):  # type: ignore[misc]
    """A consumer that leaves signal handling to its host (uvicorn, or the worker command)."""

    def _set_signal_handlers(self) -> None:
        pass


@contextmanager
def running_workers(hueys: dict[Queue, Huey], workers: int, kind: str = "thread") -> Iterator[None]:
    """Job workers in the background while the block runs; they finish their task on exit.
    Media gets ``workers``, the models half as many, upkeep one (as one process's share)."""
    shares = {Queue.MEDIA: workers, Queue.ANALYSIS: max(1, workers // 2), Queue.UPKEEP: 1}
    consumers = [
        _QuietConsumer(huey, workers=shares[queue], worker_type=kind)
        for queue, huey in hueys.items()
    ]
    for consumer in consumers:
        consumer.start()
    try:
        yield
    finally:
        for consumer in consumers:
            consumer.stop(graceful=True)


def run_consumers(hueys: list[Huey], workers: int, kind: str) -> int:
    """Run ``workers`` workers on each queue in the foreground (for ``albumen worker``), one
    child process per queue, each huey's own consumer. SIGTERM, as sent by service managers
    and orchestrators, is a graceful stop: the tasks under way finish first. The exit status
    is the first child's that failed, else 0."""
    if len(hueys) == 1:
        _consume(hueys[0], workers, kind)
        return 0
    children = [
        multiprocessing.get_context("fork").Process(target=_consume, args=(huey, workers, kind))
        for huey in hueys
    ]
    for child in children:
        child.start()

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    for child in children:
        child.join()
    return next((child.exitcode for child in children if child.exitcode), 0) or 0


def _consume(huey: Huey, workers: int, kind: str) -> None:
    Consumer(huey, workers=workers, worker_type=kind, graceful_signal="TERM").run()
