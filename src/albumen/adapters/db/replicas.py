"""``ReadRouting``: read-only queries on PostgreSQL's streaming replicas, reading your writes.

After a request that changed something, the primary's WAL position is remembered for the
user who made it (in Redis when processes share it, else in this process), for
``MARK_SECONDS``. It is the insert position (``pg_current_wal_insert_lsn()``): the write
position would miss a commit not yet flushed under ``synchronous_commit=off``. A read for that
user goes to a replica only once the replica has replayed past that position
(``pg_last_wal_replay_lsn()``, asked at most every ``CHECK_SECONDS`` per replica), else to the
primary: a user's own fresh upload is always in their timeline, while everyone else's reads
leave the primary. A replica that cannot be asked is left alone for ``DOWN_SECONDS``.
Replicas take turns.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from albumen.domain.errors import Unavailable

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)
MARK_SECONDS = 300
CHECK_SECONDS = 0.05
DOWN_SECONDS = 5.0


class WriteMarks(Protocol):
    def get(self, user_id: str) -> int | None: ...

    def set(self, user_id: str, lsn: int) -> None: ...


class MemoryMarks:
    """Marks in this process (one API process, or tests)."""

    def __init__(self) -> None:
        self._marks: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> int | None:
        with self._lock:
            found = self._marks.get(user_id)
            if found is None or found[1] < time.monotonic():
                self._marks.pop(user_id, None)
                return None
            return found[0]

    def set(self, user_id: str, lsn: int) -> None:
        with self._lock:
            if len(self._marks) > 100_000:  # forget the expired ones now and then
                now = time.monotonic()
                self._marks = {k: v for k, v in self._marks.items() if v[1] >= now}
            self._marks[user_id] = (lsn, time.monotonic() + MARK_SECONDS)


class RedisMarks:
    """Marks in Redis, seen by every API process (a write on one, a read on another)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def get(self, user_id: str) -> int | None:
        from redis.exceptions import RedisError

        try:
            found = self._redis.get(f"albumen:wrote:{user_id}")
        except RedisError:
            return -1  # cannot tell: read from the primary
        return int(found) if isinstance(found, bytes) else None

    def set(self, user_id: str, lsn: int) -> None:
        from redis.exceptions import RedisError

        try:
            self._redis.set(f"albumen:wrote:{user_id}", lsn, ex=MARK_SECONDS)
        except RedisError as err:
            log.warning("write mark not kept", extra={"error": str(err)})


@dataclass
class _Replica:
    engine: Engine
    replayed: int = 0
    checked: float = 0.0
    down_until: float = 0.0


class ReadRouting:
    def __init__(self, primary: Engine, replicas: list[Engine], marks: WriteMarks) -> None:
        self.primary = primary
        self._replicas = [_Replica(engine) for engine in replicas]
        self._turns = itertools.cycle(range(len(replicas))) if replicas else None
        self._marks = marks
        self._lock = threading.Lock()

    @property
    def has_replicas(self) -> bool:
        return bool(self._replicas)

    def for_user(self, user_id: str) -> Engine:
        """The engine for a read-only query on behalf of ``user_id``."""
        if self._turns is None:
            return self.primary
        wrote = self._marks.get(user_id)
        for _ in range(len(self._replicas)):
            with self._lock:
                replica = self._replicas[next(self._turns)]
            replayed = self._replayed(replica)  # -1: it cannot be asked now
            if replayed >= 0 and (wrote is None or (wrote >= 0 and replayed >= wrote)):
                return replica.engine
        return self.primary

    def wrote(self, user_id: str) -> None:
        """Remember that ``user_id`` just wrote: their reads wait for the replicas to catch up."""
        if self._turns is None:
            return
        with self.primary.connect() as conn:
            position = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
        self._marks.set(user_id, lsn(position))

    def close(self) -> None:
        for replica in self._replicas:
            replica.engine.dispose()

    def _replayed(self, replica: _Replica) -> int:
        now = time.monotonic()
        if now < replica.down_until:
            return -1
        if now - replica.checked > CHECK_SECONDS:
            try:
                with replica.engine.connect() as conn:
                    position = conn.execute(
                        text("SELECT coalesce(pg_last_wal_replay_lsn(), '0/0')::text")
                    ).scalar_one()
            except (DBAPIError, Unavailable) as err:  # the engine's hook makes it Unavailable
                log.warning("replica unreachable", extra={"error": str(err.__cause__ or err)})
                replica.down_until = now + DOWN_SECONDS
                return -1
            replica.replayed, replica.checked = lsn(position), now
        return replica.replayed


def lsn(position: str) -> int:
    """PostgreSQL's ``X/Y`` WAL position as one comparable integer."""
    high, low = position.split("/")
    return (int(high, 16) << 32) | int(low, 16)
