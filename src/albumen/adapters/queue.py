"""``HueyJobQueue``: one task-queue API over SQLite (embedded) or Redis (at scale).

Each of the three queues (``domain.jobs.Queue``) is a huey instance of its own: its own list in
Redis, its own rows in the SQLite file, its own consumers. The media queue keeps the name the
single queue had ("albumen"), so jobs queued before an upgrade still run.

huey is imported, and its instances made, when the queue is first used: a command that only
registers the jobs (``albumen users add``) never pays for it. Every job run is logged and
measured here (``albumen_job_duration_seconds``, failures), whatever its handler.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from albumen.adapters import metrics
from albumen.domain.jobs import QUEUE_OF, JobName, Outcome, Queue, QueueStats, Schedule

if TYPE_CHECKING:
    from huey.api import Huey, TaskWrapper
    from redis import Redis

log = logging.getLogger(__name__)
RETRY_DELAY_SECONDS = 5


HUEY_NAMES = {
    Queue.MEDIA: "albumen",
    Queue.ANALYSIS: "albumen-analysis",
    Queue.UPKEEP: "albumen-upkeep",
}


def make_hueys(redis: Redis | None, sqlite_path: Path) -> dict[Queue, Huey]:
    """A huey instance per queue: on Redis when a client is given, else in one SQLite file."""
    from huey import RedisHuey, SqliteHuey

    if redis is None:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        queue: (
            RedisHuey(name, connection_pool=redis.connection_pool, results=False)
            if redis is not None
            else SqliteHuey(name, filename=str(sqlite_path), results=False, fsync=True)
        )
        for queue, name in HUEY_NAMES.items()
    }


def _unreachable(err: Exception) -> bool:
    """Whether ``err`` says the queue's server could not be reached (not a bug of ours)."""
    try:
        from redis.exceptions import ConnectionError, TimeoutError
    except ImportError:  # no redis extra: the queue is SQLite's
        return False
    return isinstance(err, ConnectionError | TimeoutError)


@dataclass(frozen=True, slots=True)
class _Registration:
    job: JobName
    handler: Callable[[str], Outcome]
    retries: int
    schedule: Schedule | None


class HueyJobQueue:
    def __init__(self, redis: Redis | None, sqlite_path: Path) -> None:
        self._redis = redis
        self._sqlite_path = sqlite_path
        self._made: dict[Queue, Huey] | None = None
        self._registrations: list[_Registration] = []
        self._tasks: dict[JobName, TaskWrapper] = {}
        self._running = 0
        self._failed = 0
        self._lock = threading.Lock()

    @property
    def hueys(self) -> dict[Queue, Huey]:
        """The huey instances, made (and the registered jobs given to them) on first use."""
        return self._ensure()

    def _ensure(self) -> dict[Queue, Huey]:
        with self._lock:
            if self._made is None:
                self._made = self._make()
            return self._made

    def _task(self, job: JobName) -> TaskWrapper:
        """The registered task of ``job`` (the huey instances are made first, if need be)."""
        self._ensure()
        return self._tasks[job]

    def _make(self) -> dict[Queue, Huey]:
        from huey import signals

        made = make_hueys(self._redis, self._sqlite_path)
        for huey in made.values():
            huey.signal(signals.SIGNAL_EXECUTING)(self._started)
            huey.signal(signals.SIGNAL_COMPLETE, signals.SIGNAL_ERROR)(self._ended)
        for registration in self._registrations:
            self._add(made, registration)
        return made

    def register(
        self,
        job: JobName,
        handler: Callable[[str], Outcome],
        retries: int,
        schedule: Schedule | None = None,
    ) -> None:
        """Make ``handler`` the code that runs ``job``, retried with exponential backoff, and
        also run by itself on ``schedule`` (from any worker's scheduler, once per period)."""
        registration = _Registration(job, handler, retries, schedule)
        with self._lock:
            self._registrations.append(registration)
            if self._made is not None:
                self._add(self._made, registration)

    def _add(self, hueys: dict[Queue, Huey], registration: _Registration) -> None:
        job, huey = registration.job, hueys[QUEUE_OF[registration.job]]
        measured = _measured(job, registration.handler)
        self._tasks[job] = huey.task(
            retries=registration.retries,
            retry_delay=RETRY_DELAY_SECONDS,
            retry_backoff=2,
            name=job.value,
        )(measured)
        if registration.schedule is not None:
            self._periodic(huey, job, registration.schedule, measured)

    def _periodic(
        self, huey: Huey, job: JobName, schedule: Schedule, run: Callable[[str], str]
    ) -> None:
        from huey import crontab

        hourly = schedule.minute is not None
        name = f"{job.value}_{'hourly' if hourly else 'minutely'}"
        when = crontab(minute=str(schedule.minute)) if hourly else crontab()
        huey.periodic_task(when, name=name)(
            lambda: self._once(huey, name, 60 if hourly else 1) and run("")
        )

    def _once(self, huey: Huey, name: str, period_minutes: int) -> bool:
        """Whether this copy of a periodic task is the first of its period. Every consumer
        (each API process, each ``albumen worker``) runs a scheduler that queues the task;
        the first copy to run marks the period in the queue's storage and the others let it
        be. On Redis the mark is one atomic ``SET NX EX``; on SQLite (one machine) a time."""
        storage = huey.storage
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
        task = self._task(job)
        try:
            task(arg)
        except Exception as err:  # redis-py's ConnectionError, TimeoutError, ...
            if not _unreachable(err):
                raise
            log.warning("queue unreachable, job not queued", extra={"job": job.value, "arg": arg})

    def stats(self) -> QueueStats:
        hueys = self.hueys.values()
        return QueueStats(
            pending=sum(huey.pending_count() for huey in hueys),
            scheduled=sum(huey.scheduled_count() for huey in hueys),
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

    @contextmanager
    def working(self, workers: int) -> Iterator[None]:
        """Job workers in threads of this process while the block runs (``albumen serve``);
        they finish their task on exit. Media gets ``workers``, the models half as many,
        upkeep one (as one process's share)."""
        from huey.consumer import Consumer

        class QuietConsumer(Consumer):  # type: ignore[misc]  # huey is untyped
            """Leaves signal handling to its host (uvicorn)."""

            def _set_signal_handlers(self) -> None:
                pass

        shares = {Queue.MEDIA: workers, Queue.ANALYSIS: max(1, workers // 2), Queue.UPKEEP: 1}
        consumers = [
            QuietConsumer(huey, workers=shares[queue], worker_type="thread")
            for queue, huey in self.hueys.items()
        ]
        for consumer in consumers:
            consumer.start()
        try:
            yield
        finally:
            for consumer in consumers:
                consumer.stop(graceful=True)

    def consume(self, queues: Sequence[Queue], workers: int) -> int:
        """Run ``workers`` worker processes on each of ``queues`` in the foreground (``albumen
        worker``), one child process per queue, each huey's own consumer. SIGTERM, as sent by
        service managers and orchestrators, is a graceful stop: the tasks under way finish
        first. The processes stand and fall together: when any child ends, the others are
        stopped (gracefully) and the status is the first one's (128 + its signal when one
        killed it), so that the service manager starts a whole worker again; and each child,
        and each of its worker processes, dies with its parent (a kill -9 of any of them left
        workers running, ignoring SIGTERM)."""
        hueys = [self.hueys[queue] for queue in dict.fromkeys(queues)]
        if len(hueys) == 1:
            _consume(hueys[0], workers)
            return 0
        children = [
            multiprocessing.get_context("fork").Process(
                target=_consume, args=(huey, workers, os.getpid())
            )
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
        first: int | None = None
        running = list(children)
        while running:  # exit codes, not sentinels: a child's workers hold its sentinel open
            time.sleep(_SUPERVISE_SECONDS)
            for child in [child for child in running if child.exitcode is not None]:
                running.remove(child)
                _end_group(child.pid)  # whatever the child left behind goes with it
                if first is None:
                    first = _status(child.exitcode)
                    forward(signal.SIGTERM, None)  # the rest stop too
        return first or 0

    def _started(self, _signal: str, _task: Any, *_: Any) -> None:
        with self._lock:
            self._running += 1

    def _ended(self, signal_name: str, _task: Any, *_: Any) -> None:
        with self._lock:
            self._running -= 1
            if signal_name == "error":  # huey's SIGNAL_ERROR
                self._failed += 1


_PR_SET_PDEATHSIG = 1  # prctl(2)
_SUPERVISE_SECONDS = 0.5  # how often ``albumen worker`` looks at its children


def _consume(huey: Huey, workers: int, parent: int | None = None) -> None:
    from huey.consumer import Consumer

    if parent is not None:
        os.setpgid(0, 0)  # a group of its own: its processes can be ended together
        die_with_parent(signal.SIGTERM, parent)  # a graceful stop when ``albumen worker`` ends
    # huey's worker processes ignore SIGTERM (the consumer's graceful signal): without their
    # consumer they would run on for good, so its end kills them
    consumer = os.getpid()
    huey.on_startup("die_with_the_consumer")(lambda: die_with_parent(signal.SIGKILL, consumer))
    Consumer(huey, workers=workers, worker_type="process", graceful_signal="TERM").run()


def die_with_parent(signum: int, parent: int) -> None:
    """Have the kernel send ``signum`` to this process when ``parent`` (its parent) ends
    (Linux's ``PR_SET_PDEATHSIG``; elsewhere nothing). If it has ended already, now."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signum) != 0:
        log.warning("cannot ask to end with the parent", extra={"errno": ctypes.get_errno()})
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)


def _end_group(leader: int | None) -> None:
    """Kill what is left of a child's process group (its scheduler and worker processes)."""
    if leader is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):  # nothing left
        os.killpg(leader, signal.SIGKILL)


def _status(exitcode: int | None) -> int:
    """A child's exit code as a process status: 128 + the signal that killed it."""
    if exitcode is None:
        return 1
    return 128 - exitcode if exitcode < 0 else exitcode


def _measured(job: JobName, handler: Callable[[str], Outcome]) -> Callable[[str], str]:
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
