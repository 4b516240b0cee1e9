"""Caches: L1 in-process (an LRU bounded by bytes), L2 Redis, and the two as one cache-aside.

Each level counts its hits, misses, evictions and latency under its own ``level`` label, so
``/metrics``, the admin dashboard and the cache optimizer see every level alike.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache

from albumen.adapters import metrics

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)


class _CountingLRU(LRUCache[str, bytes]):
    def __init__(self, maxsize: int, on_evict: Any) -> None:
        super().__init__(maxsize=maxsize, getsizeof=len)
        self._on_evict = on_evict

    def popitem(self) -> tuple[str, bytes]:  # cachetools calls this only to make room
        item = super().popitem()
        self._on_evict()
        return item

    def resize(self, maxsize: int) -> None:
        self._Cache__maxsize = maxsize  # cachetools keeps it private and offers no setter
        while self.currsize > maxsize:
            self.popitem()


class _Measured:
    """Hit, miss and latency bookkeeping shared by every level."""

    def __init__(self, level: str) -> None:
        self.level = level
        self._hits = metrics.cache_hits.labels(level)
        self._misses = metrics.cache_misses.labels(level)
        self._evictions = metrics.cache_evictions.labels(level)
        self._get_latency = metrics.cache_latency.labels(level, "get")
        self._set_latency = metrics.cache_latency.labels(level, "set")
        self.hits = self.misses = 0  # this process's, for the hit ratio gauge

    def _counted(self, found: bytes | None, started: float) -> bytes | None:
        self._get_latency.observe(time.perf_counter() - started)
        if found is None:
            self.misses += 1
            self._misses.inc()
        else:
            self.hits += 1
            self._hits.inc()
        return found

    def hit_ratio(self) -> float | None:
        reads = self.hits + self.misses
        return self.hits / reads if reads else None


class MemoryCache(_Measured):
    """L1: this process's memory, least recently used out first, within ``max_bytes``."""

    def __init__(self, max_bytes: int, level: str = "l1") -> None:
        super().__init__(level)
        self.max_bytes = max_bytes
        self._lru = _CountingLRU(max(max_bytes, 1), self._evictions.inc)
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        start = time.perf_counter()
        with self._lock:
            found = self._lru.get(key)
        return self._counted(found, start)

    def has(self, key: str) -> bool:
        """Whether ``key`` is held, without counting a read or freshening it."""
        with self._lock:
            return key in self._lru

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        start = time.perf_counter()
        with self._lock:
            self._lru[key] = value
        self._set_latency.observe(time.perf_counter() - start)

    def delete(self, key: str) -> None:
        with self._lock:
            self._lru.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    def capacity(self) -> int:
        return self.max_bytes

    @property
    def ttl_seconds(self) -> int | None:
        return None  # an LRU: entries stay until evicted

    def set_ttl(self, seconds: int) -> None:
        raise ValueError("the in-process cache has no TTL")

    def resize(self, max_bytes: int) -> None:
        """A new byte budget, at once (the least recently used go first when it shrinks)."""
        with self._lock:
            self.max_bytes = max_bytes
            self._lru.resize(max(max_bytes, 1))

    def size(self) -> int:
        return int(self._lru.currsize)


class RedisCache(_Measured):
    """L2: Redis, shared by every process and machine; each entry lives ``ttl`` seconds.

    Redis bounds its memory itself (``maxmemory`` with an LRU or LFU policy); its evictions
    are read from ``INFO`` and counted here. When Redis cannot be reached the level steps
    aside for ``retry_after`` seconds: reads miss and writes are dropped, so requests are
    served from L1 and the stores, never failed by the cache.
    """

    def __init__(
        self, client: Redis, ttl: int, level: str = "l2", retry_after: float = 5.0
    ) -> None:
        super().__init__(level)
        self._client = client
        self.ttl = ttl
        self._retry_after = retry_after
        self._down_until = 0.0
        self._evicted_seen: int | None = None
        self._info: tuple[float, dict[str, Any]] = (0.0, {})
        self._lock = threading.Lock()

    @property
    def up(self) -> bool:
        return time.monotonic() >= self._down_until

    def get(self, key: str) -> bytes | None:
        start = time.perf_counter()
        found: bytes | None = None
        if self.up:
            try:
                value = self._client.get(_key(key))
                found = value if isinstance(value, bytes) else None
            except Exception as err:  # redis-py raises its own tree; any of it means "down"
                self._fail(err)
        return self._counted(found, start)

    def has(self, key: str) -> bool:
        if not self.up:
            return False
        try:
            return bool(self._client.exists(_key(key)))
        except Exception as err:
            self._fail(err)
            return False

    def set(self, key: str, value: bytes) -> None:
        if not self.up:
            return
        start = time.perf_counter()
        try:
            self._client.set(_key(key), value, ex=self.ttl)
        except Exception as err:
            self._fail(err)
            return
        self._set_latency.observe(time.perf_counter() - start)

    def delete(self, key: str) -> None:
        if self.up:
            try:
                self._client.delete(_key(key))
            except Exception as err:
                self._fail(err)

    def size(self) -> int:
        """Memory Redis uses (all of it: the cache is most of it); also counts evictions."""
        info = self._server_info()
        evicted = int(info.get("evicted_keys", 0))
        with self._lock:
            if self._evicted_seen is not None and evicted > self._evicted_seen:
                self._evictions.inc(evicted - self._evicted_seen)
            self._evicted_seen = evicted
        return int(info.get("used_memory", 0))

    def capacity(self) -> int:
        return int(self._server_info().get("maxmemory", 0))

    def resize(self, max_bytes: int) -> None:
        """Redis's own memory bound (``CONFIG SET maxmemory``), for every process at once."""
        self._client.config_set("maxmemory", max_bytes)
        self._info = (0.0, self._info[1])

    @property
    def ttl_seconds(self) -> int | None:
        return self.ttl

    def set_ttl(self, seconds: int) -> None:
        """The lifetime of entries written from now on (in this process)."""
        self.ttl = seconds

    def _server_info(self) -> dict[str, Any]:
        at, info = self._info
        if time.monotonic() - at < 1.0 or not self.up:
            return info
        try:
            info = {**self._client.info("memory"), **self._client.info("stats")}
        except Exception as err:
            self._fail(err)
            return self._info[1]
        self._info = (time.monotonic(), info)
        return info

    def _fail(self, err: Exception) -> None:
        if self.up:
            log.warning("L2 cache unreachable; serving without it", extra={"error": str(err)})
        self._down_until = time.monotonic() + self._retry_after
        metrics.cache_errors.labels(self.level).inc()


class LayeredCache:
    """L1 in front of L2, cache-aside: a read tries L1, then L2 (and copies an L2 hit into
    L1); a write and a delete go to both."""

    def __init__(self, l1: MemoryCache, l2: RedisCache) -> None:
        self.l1 = l1
        self.l2 = l2

    def get(self, key: str) -> bytes | None:
        found = self.l1.get(key)
        if found is None:
            found = self.l2.get(key)
            if found is not None:
                self.l1.set(key, found)
        return found

    def has(self, key: str) -> bool:
        return self.l1.has(key) or self.l2.has(key)

    def set(self, key: str, value: bytes) -> None:
        self.l1.set(key, value)
        self.l2.set(key, value)

    def delete(self, key: str) -> None:
        self.l1.delete(key)
        self.l2.delete(key)


def _key(key: str) -> str:
    return f"albumen:{key}"
