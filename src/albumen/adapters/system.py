"""Small adapters over the standard library and argon2: the clock and password hashing."""

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


class MemoryRateLimiter:
    """A moving-window limit per key (``limits`` in process memory; Redis when scaled out)."""

    def __init__(self, rule: str) -> None:
        from limits import parse, storage, strategies

        self._item = parse(rule)
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def hit(self, key: str) -> bool:
        return bool(self._limiter.hit(self._item, key))

    def test(self, key: str) -> bool:
        return bool(self._limiter.test(self._item, key))
