"""``HueyJobQueue``: one task-queue API over SQLite (embedded) or Redis (at scale)."""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey, crontab, signals
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer

from albumen.domain.jobs import JobName, QueueStats

log = logging.getLogger(__name__)
RETRY_DELAY_SECONDS = 5


def make_huey(redis_url: str, sqlite_path: Path) -> Huey:
    if redis_url:
        if not _has_redis():
            raise RuntimeError(
                "ALBUMEN_REDIS_URL needs the redis extra: pip install 'albumen[redis]'"
            )
        return RedisHuey("albumen", url=redis_url, results=False)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("albumen", filename=str(sqlite_path), results=False, fsync=True)


def _unreachable(err: Exception) -> bool:
    """Whether ``err`` says the queue's server could not be reached (not a bug of ours)."""
    if not _has_redis():
        return False
    from redis.exceptions import ConnectionError, TimeoutError

    return isinstance(err, ConnectionError | TimeoutError)


def _has_redis() -> bool:
    return importlib.util.find_spec("redis") is not None


class HueyJobQueue:
    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._tasks: dict[JobName, TaskWrapper] = {}
        self._running = 0
        self._failed = 0
        self._lock = threading.Lock()
        huey.signal(signals.SIGNAL_EXECUTING)(self._started)
        huey.signal(signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR)(self._ended)

    def register(self, job: JobName, handler: Callable[[str], Any], retries: int) -> None:
        """Make ``handler`` the code that runs ``job``, retried with exponential backoff."""
        self._tasks[job] = self.huey.task(
            retries=retries,
            retry_delay=RETRY_DELAY_SECONDS,
            retry_backoff=2,
            name=job.value,
        )(handler)

    def every_hour(self, job: JobName, handler: Callable[[str], Any], minute: int) -> None:
        """Also run ``job`` once an hour, at ``minute``, from any worker's scheduler."""
        name = f"{job.value}_hourly"
        self.huey.periodic_task(crontab(minute=str(minute)), name=name)(
            lambda: self._once(name, 60) and handler("")
        )

    def every_minute(self, job: JobName, handler: Callable[[str], Any]) -> None:
        """Also run ``job`` every minute, from any worker's scheduler."""
        name = f"{job.value}_minutely"
        self.huey.periodic_task(crontab(), name=name)(lambda: self._once(name, 1) and handler(""))

    def _once(self, name: str, period_minutes: int) -> bool:
        """Whether this copy of a periodic task is the first of its period. Every consumer
        (each API process, each ``albumen worker``) runs a scheduler that queues the task;
        the first copy to run marks the period in the queue's storage and the others let it
        be. On Redis the mark is one atomic ``SET NX EX``; on SQLite (one machine) a time."""
        storage = self.huey.storage
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
            pending=self.huey.pending_count(),
            scheduled=self.huey.scheduled_count(),
            running=self._running,
            failed=self._failed,
        )

    def run_pending(self) -> int:
        """Run queued tasks in this thread until the queue is empty; for tests and the CLI."""
        ran = 0
        while (task := self.huey.dequeue()) is not None:
            self.huey.execute(task)
            ran += 1
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
def running_workers(huey: Huey, workers: int, kind: str = "thread") -> Iterator[None]:
    """Job workers in the background while the block runs; they finish their task on exit."""
    consumer = _QuietConsumer(huey, workers=workers, worker_type=kind)
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)


def run_consumer(huey: Huey, workers: int, kind: str) -> None:
    """Run workers in the foreground (for ``albumen worker``). SIGTERM, as sent by service
    managers and orchestrators, is a graceful stop: the tasks under way finish first."""
    Consumer(huey, workers=workers, worker_type=kind, graceful_signal="TERM").run()
