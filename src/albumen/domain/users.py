"""People who own photos, and the keys they use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    created_at: datetime
    is_admin: bool = False  # may read the operations pages: metrics, dashboard, alerts
    disabled: bool = False  # an admin disabled it: no sign-in, no key, no session


@dataclass(frozen=True, slots=True)
class Account:
    """A user as an admin manages them: who, and what they keep here."""

    user: User
    photos: int
    bytes: int
    has_password: bool


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key as shown to its owner once; only its hash is stored."""

    user: User
    secret: str


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser. The cookie holds a secret whose hash is the session's key; the CSRF
    token is sent back by the page with every state-changing request."""

    user: User
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewWebSession:
    """A session as it is handed to the browser once: ``secret`` goes into the cookie."""

    session: WebSession
    secret: str
