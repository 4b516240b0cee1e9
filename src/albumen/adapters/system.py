"""Small adapters: the clock, password hashing (argon2), rate limits (``limits``) and named
locks (threads, or Redis across processes)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import psutil
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from limits.storage import Storage
    from redis import Redis

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)


class Argon2Hasher:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class RateLimits:
    """Where attempts are counted (``limits``): in process memory, or in Redis, shared by every
    process, when a client is given; ``limiter`` makes one rule's limiter there."""

    def __init__(self, redis: Redis | None = None) -> None:
        from limits import storage

        self._storage: storage.Storage = (
            storage.MemoryStorage()
            if redis is None
            else storage.RedisStorage("redis://", connection_pool=redis.connection_pool)
        )

    def limiter(self, rule: str, namespace: str) -> RateLimiter:
        return RateLimiter(rule, self._storage, namespace)


class RateLimiter:
    """A moving-window limit per key, counted in ``RateLimits``' storage."""

    def __init__(self, rule: str, kept: Storage, namespace: str = "") -> None:
        from limits import parse, strategies

        self._item = parse(rule)
        self._namespace = namespace
        self._limiter = strategies.MovingWindowRateLimiter(kept)

    def hit(self, key: str) -> bool:
        return bool(self._limiter.hit(self._item, self._namespace, key))

    def test(self, key: str) -> bool:
        return bool(self._limiter.test(self._item, self._namespace, key))


class LocalLocks:
    """Named locks among this process's threads (the embedded world: one process)."""

    def __init__(self) -> None:
        self._held: dict[str, threading.Lock] = {}
        self._waiting: dict[str, int] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._guard:
            lock = self._held.setdefault(name, threading.Lock())
            self._waiting[name] = self._waiting.get(name, 0) + 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                self._waiting[name] -= 1
                if not self._waiting[name]:  # nobody else wants it: forget it
                    del self._waiting[name], self._held[name]


class RedisLocks:
    """Named locks shared by every process through Redis (redis-py's ``Lock``: ``SET NX PX``
    with a token, released only by its holder). A lock expires after ``timeout`` seconds, so a
    crashed holder never blocks the name for good. When Redis cannot be reached the block runs
    unlocked: a lock here only saves duplicate work; correctness rests on the database."""

    def __init__(self, redis: Redis, timeout: float = 300, prefix: str = "albumen:lock:") -> None:
        self._redis = redis
        self._timeout = timeout
        self._prefix = prefix

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        from redis.exceptions import LockError, RedisError

        lock = self._redis.lock(
            self._prefix + name, timeout=self._timeout, blocking_timeout=self._timeout
        )
        try:
            acquired = lock.acquire()
        except RedisError as err:
            log.warning("lock unavailable, going on without it", extra={"error": str(err)})
            acquired = False
        try:
            yield
        finally:
            if acquired:
                try:
                    lock.release()
                except (LockError, RedisError) as err:  # expired meanwhile, or Redis gone
                    log.warning("lock not released", extra={"error": str(err)})


class SystemProcesses:
    """Processes of this host, named ``host:pid:start`` (the start time tells a pid reused)."""

    def me(self) -> str:
        return _name(psutil.Process())

    def gone(self, claimer: str) -> bool:
        host, _, rest = claimer.partition(":")
        pid, _, _start = rest.partition(":")
        if host != socket.gethostname() or not pid.isdigit():
            return False  # another machine's: only its lease tells
        try:
            process = psutil.Process(int(pid))
            # a zombie has ended: only its parent has not collected it yet (a killed worker's
            # children are left to an init that may take its time, or never come)
            return _name(process) != claimer or process.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True


def _name(process: psutil.Process) -> str:
    return f"{socket.gethostname()}:{process.pid}:{process.create_time():.0f}"
