"""``MemoryCache``: an in-process LRU bounded by bytes, safe across threads, measured."""

from __future__ import annotations

import threading
import time
from typing import Any

from cachetools import LRUCache

from albumen.adapters import metrics


class _CountingLRU(LRUCache[str, bytes]):
    def __init__(self, maxsize: int, on_evict: Any) -> None:
        super().__init__(maxsize=maxsize, getsizeof=len)
        self._on_evict = on_evict

    def popitem(self) -> tuple[str, bytes]:  # cachetools calls this only to make room
        item = super().popitem()
        self._on_evict()
        return item


class MemoryCache:
    def __init__(self, max_bytes: int, level: str = "l1") -> None:
        self.level = level
        self.max_bytes = max_bytes
        self._hits = metrics.cache_hits.labels(level)
        self._misses = metrics.cache_misses.labels(level)
        self._get_latency = metrics.cache_latency.labels(level, "get")
        self._set_latency = metrics.cache_latency.labels(level, "set")
        self._lru = _CountingLRU(max(max_bytes, 1), metrics.cache_evictions.labels(level).inc)
        self._lock = threading.Lock()
        self.hits = self.misses = 0  # this process's, for the hit ratio gauge

    def get(self, key: str) -> bytes | None:
        start = time.perf_counter()
        with self._lock:
            found = self._lru.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        self._get_latency.observe(time.perf_counter() - start)
        (self._misses if found is None else self._hits).inc()
        return found

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        start = time.perf_counter()
        with self._lock:
            self._lru[key] = value
        self._set_latency.observe(time.perf_counter() - start)

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    def size(self) -> int:
        return int(self._lru.currsize)

    def hit_ratio(self) -> float | None:
        reads = self.hits + self.misses
        return self.hits / reads if reads else None
