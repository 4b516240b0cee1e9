"""``SqlShareRepo``: share links, found by the hash of their token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Row, delete, insert, select

from albumen.adapters.db.engine import writing
from albumen.adapters.db.tables import share_links
from albumen.domain.albums import ShareLink


class SqlShareRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, link: ShareLink, token_hash: str, password_hash: str | None) -> None:
        values = {
            "id": link.id,
            "token_hash": token_hash,
            "owner_id": link.owner_id,
            "album_id": link.album_id,
            "photo_id": link.photo_id,
            "password_hash": password_hash,
            "allow_download": link.allow_download,
            "show_map": link.show_map,
            "expires_at": link.expires_at,
            "created_at": link.created_at,
        }
        with writing(self._engine) as conn:
            conn.execute(insert(share_links).values(values))

    def by_token_hash(self, token_hash: str) -> tuple[ShareLink, str | None] | None:
        """The link and its password hash."""
        query = select(share_links).where(share_links.c.token_hash == token_hash)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (_link(row), row.password_hash)

    def by_id(self, link_id: str) -> ShareLink | None:
        query = select(share_links).where(share_links.c.id == link_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _link(row)

    def of_owner(self, owner_id: str) -> list[ShareLink]:
        query = (
            select(share_links)
            .where(share_links.c.owner_id == owner_id)
            .order_by(share_links.c.created_at.desc())
        )
        with self._engine.connect() as conn:
            return [_link(row) for row in conn.execute(query)]

    def delete(self, link_id: str, owner_id: str) -> bool:
        query = delete(share_links).where(
            share_links.c.id == link_id, share_links.c.owner_id == owner_id
        )
        with writing(self._engine) as conn:
            return bool(conn.execute(query).rowcount)


def _link(row: Row[Any]) -> ShareLink:
    return ShareLink(
        id=row.id,
        owner_id=row.owner_id,
        album_id=row.album_id,
        photo_id=row.photo_id,
        allow_download=bool(row.allow_download),
        expires_at=row.expires_at,
        created_at=row.created_at,
        has_password=row.password_hash is not None,
        show_map=bool(row.show_map),
    )
