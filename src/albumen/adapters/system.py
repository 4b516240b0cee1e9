"""Small adapters: the clock, password hashing (argon2) and rate limits (``limits``)."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


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


class RateLimiter:
    """A moving-window limit per key (``limits``): in process memory, or in Redis, shared by
    every process, when a Redis URL is given."""

    def __init__(self, rule: str, redis_url: str = "", namespace: str = "") -> None:
        from limits import parse, storage, strategies

        self._item = parse(rule)
        self._namespace = namespace
        kept = storage.storage_from_string(redis_url) if redis_url else storage.MemoryStorage()
        self._limiter = strategies.MovingWindowRateLimiter(kept)

    def hit(self, key: str) -> bool:
        return bool(self._limiter.hit(self._item, self._namespace, key))

    def test(self, key: str) -> bool:
        return bool(self._limiter.test(self._item, self._namespace, key))
