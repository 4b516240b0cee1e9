"""``MemoryCache``: an in-process LRU bounded by bytes, safe across threads."""

from __future__ import annotations

import threading

from cachetools import LRUCache


class MemoryCache:
    def __init__(self, max_bytes: int) -> None:
        self._lru: LRUCache[str, bytes] = LRUCache(maxsize=max(max_bytes, 1), getsizeof=len)
        self._lock = threading.Lock()
        self._max_bytes = max_bytes

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._lru.get(key)

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self._max_bytes:
            return
        with self._lock:
            self._lru[key] = value
