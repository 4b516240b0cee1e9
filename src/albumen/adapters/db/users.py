"""``SqlUserRepo``: users and their API keys (stored as hashes only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from albumen.adapters.db.engine import writing
from albumen.adapters.db.tables import api_keys, photos, users, web_sessions
from albumen.domain.errors import Conflict
from albumen.domain.users import Account, User, WebSession


class SqlUserRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, name: str, now: datetime, admin: bool = False) -> User:
        try:
            with writing(self._engine) as conn:
                first = conn.execute(select(users.c.id).limit(1)).first() is None
                user = User(str(uuid.uuid4()), name, now, is_admin=admin or first)
                conn.execute(
                    insert(users).values(
                        id=user.id, name=name, created_at=now, is_admin=user.is_admin
                    )
                )
        except IntegrityError as err:
            raise Conflict(f"a user named {name!r} already exists", code="user_exists") from err
        return user

    def get(self, user_id: str) -> User | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def accounts(self) -> list[Account]:
        """Every user, by name, with their photos (the trash's too) and the bytes of their
        originals."""
        usage = (
            select(
                photos.c.owner_id,
                func.count().label("photos"),
                func.coalesce(func.sum(photos.c.size), 0).label("bytes"),
            )
            .group_by(photos.c.owner_id)
            .subquery()
        )
        query = (
            select(users, usage.c.photos, usage.c.bytes)
            .outerjoin(usage, usage.c.owner_id == users.c.id)
            .order_by(users.c.name)
        )
        with self._engine.connect() as conn:
            return [
                Account(
                    _user(row),
                    int(row.photos or 0),
                    int(row.bytes or 0),
                    row.password_hash is not None,
                )
                for row in conn.execute(query)
            ]

    def set_disabled(self, user_id: str, when: datetime | None) -> None:
        with writing(self._engine) as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(disabled_at=when))
            if when is not None:
                conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))

    def delete(self, user_id: str) -> None:
        """The user and everything theirs, in one transaction (their photos, albums, people,
        links, keys and sessions go with them; blobs no one refers to any more are swept)."""
        with writing(self._engine) as conn:
            conn.execute(delete(users).where(users.c.id == user_id))

    def set_admin(self, user_id: str, admin: bool) -> None:
        with writing(self._engine) as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(is_admin=admin))

    def by_name(self, name: str) -> User | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        return None if row is None else _user(row)

    def add_key(self, user_id: str, key_hash: str, label: str, now: datetime) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                insert(api_keys).values(
                    key_hash=key_hash, user_id=user_id, label=label, created_at=now
                )
            )

    def by_key_hash(self, key_hash: str) -> User | None:
        query = (
            select(users)
            .join(api_keys, api_keys.c.user_id == users.c.id)
            .where(api_keys.c.key_hash == key_hash)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _user(row)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )

    def password_hash(self, name: str) -> tuple[User, str] | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None or row.password_hash is None:
            return None
        return _user(row), row.password_hash

    def add_session(
        self, user_id: str, secret_hash: str, csrf_token: str, now: datetime, expires_at: datetime
    ) -> None:
        with writing(self._engine) as conn:
            # the expired sessions of this user go as a new one comes: the table stays small
            conn.execute(
                delete(web_sessions).where(
                    web_sessions.c.user_id == user_id, web_sessions.c.expires_at <= now
                )
            )
            conn.execute(
                insert(web_sessions).values(
                    secret_hash=secret_hash,
                    user_id=user_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    def session(self, secret_hash: str) -> WebSession | None:
        query = (
            select(users, web_sessions.c.csrf_token, web_sessions.c.expires_at)
            .join(web_sessions, web_sessions.c.user_id == users.c.id)
            .where(web_sessions.c.secret_hash == secret_hash)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else WebSession(_user(row), row.csrf_token, row.expires_at)

    def delete_session(self, secret_hash: str) -> None:
        with writing(self._engine) as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.secret_hash == secret_hash))

    def delete_sessions(self, user_id: str) -> int:
        with writing(self._engine) as conn:
            ended = conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
        return ended.rowcount


def _user(row: Row[Any]) -> User:
    return User(row.id, row.name, row.created_at, row.is_admin, row.disabled_at is not None)
