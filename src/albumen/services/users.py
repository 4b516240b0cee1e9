"""``UserService``: people, their API keys and passwords."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from albumen.domain import limits
from albumen.domain.errors import Conflict, InvalidInput, NotFound, RateLimited, Unauthorized
from albumen.domain.users import Account, NewApiKey, NewWebSession, User, WebSession
from albumen.ports import Clock, PasswordHasher, RateLimiter, UserRepo

KEY_PREFIX = "alb_"
REMEMBER_KEYS_FOR = timedelta(seconds=60)
MAX_REMEMBERED_KEYS = 4096
T = TypeVar("T")


class _Memory(Generic[T]):
    """What a secret's hash stood for, trusted until a moment, so hot reads skip the database.
    A plain dict: cachetools' TTLCache cost 4% of a cached thumbnail request."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[T, datetime]] = {}

    def get(self, digest: str, now: datetime) -> T | None:
        found = self._items.get(digest)
        return None if found is None or found[1] < now else found[0]

    def put(self, digest: str, value: T, until: datetime) -> None:
        if len(self._items) >= MAX_REMEMBERED_KEYS:
            self._items.clear()
        self._items[digest] = (value, until)

    def forget(self, digest: str) -> None:
        self._items.pop(digest, None)

    def clear(self) -> None:
        self._items.clear()


class UserService:
    def __init__(
        self,
        users: UserRepo,
        hasher: PasswordHasher,
        clock: Clock,
        limiter: RateLimiter,
        session_lifetime: timedelta = timedelta(days=30),
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._limiter = limiter
        self._session_lifetime = session_lifetime
        self._known: _Memory[User] = _Memory()  # API keys
        self._sessions: _Memory[WebSession] = _Memory()  # browsers' cookies
        # A hash to check a password against when the user does not exist, so that a wrong
        # name takes as long as a wrong password (made on first use: argon2 is slow on purpose).
        self._absent_hash: str | None = None

    def add(self, name: str, admin: bool = False) -> NewApiKey:
        """A new user and their first key. The first user of an instance is its admin."""
        name = name.strip()
        if not name or len(name) > limits.NAME:
            raise InvalidInput(f"a user name is 1 to {limits.NAME} characters", code="invalid_name")
        user = self._users.add(name, self._clock.now(), admin)
        return NewApiKey(user, self._new_key(user, "created with the user"))

    def add_key(self, name: str, label: str) -> NewApiKey:
        user = self.by_name(name)
        return NewApiKey(user, self._new_key(user, limits.clip(label.strip(), limits.NAME)))

    def set_admin(self, name: str, admin: bool) -> User:
        user = self.by_name(name)
        self._users.set_admin(user.id, admin)
        self._known.clear()  # a remembered key must not keep a revoked right
        self._sessions.clear()
        return self.by_name(name)

    def set_password(self, name: str, password: str) -> int:
        """A new password; every browser signed in with the old one is signed out (how many)."""
        _check_password(password)
        user = self.by_name(name)
        self._users.set_password_hash(user.id, self._hasher.hash(password))
        self._sessions.clear()
        return self._users.delete_sessions(user.id)

    def check_password(self, name: str, password: str) -> User:
        found = self._users.password_hash(name)
        if found is None:
            if self._absent_hash is None:
                self._absent_hash = self._hasher.hash(secrets.token_hex(16))
            self._hasher.verify(self._absent_hash, password)  # as long as a wrong password
            raise Unauthorized("wrong user name or password", code="bad_credentials")
        if not self._hasher.verify(found[1], password):
            raise Unauthorized("wrong user name or password", code="bad_credentials")
        return _enabled(found[0])

    def sign_in(self, name: str, password: str, client: str) -> NewWebSession:
        """A new browser session for the right name and password. Wrong tries are limited per
        name and client, so a password cannot be guessed at speed."""
        tries = f"sign-in:{name.strip().lower()}:{client}"
        if not self._limiter.test(tries):
            raise RateLimited("too many wrong tries; wait a few minutes", code="too_many_attempts")
        try:
            user = self.check_password(name.strip(), password)
        except Unauthorized:
            self._limiter.hit(tries)
            raise
        secret, now = secrets.token_urlsafe(32), self._clock.now()
        session = WebSession(user, secrets.token_urlsafe(32), now + self._session_lifetime)
        self._users.add_session(
            user.id, _key_hash(secret), session.csrf_token, now, session.expires_at
        )
        return NewWebSession(session, secret)

    def cached_session(self, secret: str) -> WebSession | None:
        """The cookie's session if it was seen recently: a check that needs no I/O."""
        return self._sessions.get(_key_hash(secret), self._clock.now())

    def session(self, secret: str) -> WebSession:
        """The live session of a cookie's secret; ``Unauthorized`` when it is unknown or over."""
        digest, now = _key_hash(secret), self._clock.now()
        found = self._users.session(digest)
        if found is None or found.expires_at <= now:
            raise Unauthorized("sign in again", code="session_expired")
        _enabled(found.user)
        self._sessions.put(digest, found, min(found.expires_at, now + REMEMBER_KEYS_FOR))
        return found

    def now(self) -> datetime:
        return self._clock.now()

    def sign_out(self, secret: str) -> None:
        digest = _key_hash(secret)
        self._sessions.forget(digest)
        self._users.delete_session(digest)

    def authenticate(self, api_key: str) -> User:
        """The owner of an API key; ``Unauthorized`` for anything else."""
        digest = _key_hash(api_key)
        now = self._clock.now()
        user = self._known.get(digest, now)
        if user is None:
            user = self._users.by_key_hash(digest)
            if user is None:
                raise Unauthorized("the API key is not valid", code="invalid_api_key")
            _enabled(user)
            self._known.put(digest, user, now + REMEMBER_KEYS_FOR)
        return user

    def cached_user(self, api_key: str) -> User | None:
        """The key's user if it was seen recently: a check that needs no I/O."""
        return self._known.get(_key_hash(api_key), self._clock.now())

    def by_name(self, name: str) -> User:
        user = self._users.by_name(name)
        if user is None:
            raise NotFound(f"no user named {name!r}", code="user_not_found")
        return user

    # What an admin does to accounts (the web app's admin page; ``albumen users`` too).

    def accounts(self) -> list[Account]:
        return self._users.accounts()

    def create(self, name: str, password: str | None, admin: bool) -> User:
        """A user an admin makes, who signs in with ``password`` (none: a key only)."""
        if password is not None:
            _check_password(password)
        user = self.add(name, admin).user
        if password is not None:
            self._users.set_password_hash(user.id, self._hasher.hash(password))
        return user

    def manage(
        self,
        admin: User,
        user_id: str,
        *,
        is_admin: bool | None = None,
        disabled: bool | None = None,
        password: str | None = None,
    ) -> User:
        """Make or unmake an admin, disable or enable, reset the password (which signs them
        out everywhere). An admin cannot demote or disable themselves (another admin can): so
        the one who asks stays, and an instance always keeps an admin who can sign in."""
        user = self._account(user_id)
        if user.id == admin.id and (is_admin is False or disabled):
            raise Conflict("an admin cannot demote or disable themselves", code="own_account")
        if password is not None:
            _check_password(password)
            self._users.set_password_hash(user.id, self._hasher.hash(password))
            self._users.delete_sessions(user.id)
        if is_admin is not None:
            self._users.set_admin(user.id, is_admin)
        if disabled is not None:
            self._users.set_disabled(user.id, self._clock.now() if disabled else None)
        self._known.clear()  # a remembered key or session must not outlive a change
        self._sessions.clear()
        return self._account(user_id)

    def delete(self, admin: User, user_id: str, confirm: str) -> Account:
        """Delete the user and everything theirs (what they had, as it was): only with their
        name typed as ``confirm``, never oneself."""
        user = self._account(user_id)
        if user.id == admin.id:
            raise Conflict("an admin cannot delete themselves", code="own_account")
        if confirm != user.name:
            raise InvalidInput("type the user's name to confirm", code="confirm_name")
        gone = next(a for a in self._users.accounts() if a.user.id == user.id)
        self._users.delete(user.id)
        self._known.clear()
        self._sessions.clear()
        return gone

    def _account(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise NotFound("no such user", code="user_not_found")
        return user

    def _new_key(self, user: User, label: str) -> str:
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        self._users.add_key(user.id, _key_hash(secret), label, self._clock.now())
        return secret


def _enabled(user: User) -> User:
    if user.disabled:
        raise Unauthorized("this account is disabled: ask an admin", code="account_disabled")
    return user


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("a password has at least 8 characters", code="weak_password")


def _key_hash(api_key: str) -> str:
    # Keys carry 256 random bits: a fast hash is safe here (argon2 is for passwords).
    return hashlib.sha256(api_key.encode()).hexdigest()
