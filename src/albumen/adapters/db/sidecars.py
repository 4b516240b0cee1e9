"""``SqlSidecarRepo``: metadata sidecars made from the database, and the database made from them.

A sidecar holds a record's own rows by column name (datetimes in ISO 8601), so it can put
them back exactly, and a newer schema takes an older sidecar (columns it lacks get their
defaults; columns it no longer has are left out):

- photo: the ``photos`` row (its place by name, not by id), its thumbnails, its tags;
- album: the ``albums`` row, its photos in order, its members;
- user: the ``users`` row (the argon2 password hash included) and its API keys' SHA-256
  hashes, so that the same keys and passwords work after a rebuild.

What analysis finds (faces, people, likeness) is not kept: ``albumen analyze --missing``
finds it again. Share links are not kept either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, delete, insert, select, tuple_
from sqlalchemy.types import DateTime

from albumen.adapters.db.engine import writing
from albumen.adapters.db.tables import (
    album_members,
    album_photos,
    albums,
    api_keys,
    derivatives,
    photo_tags,
    photos,
    places,
    sidecar_outbox,
    users,
)
from albumen.domain.durability import SidecarKind
from albumen.domain.maps import grid_cell

FORMAT = 1


class SqlSidecarRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def pending(self, limit: int) -> list[tuple[SidecarKind, str, int]]:
        query = select(sidecar_outbox).limit(limit)
        with self._engine.connect() as conn:
            return [(SidecarKind(r.kind), r.id, r.version) for r in conn.execute(query)]

    def written(self, done: Iterable[tuple[SidecarKind, str, int]]) -> None:
        """Clear what was written, unless it changed again since it was read."""
        keys = [(kind.value, id_, version) for kind, id_, version in done]
        if not keys:
            return
        key = tuple_(sidecar_outbox.c.kind, sidecar_outbox.c.id, sidecar_outbox.c.version)
        with writing(self._engine) as conn:
            conn.execute(delete(sidecar_outbox).where(key.in_(keys)))

    def document(self, kind: SidecarKind, record_id: str) -> bytes | None:
        """The record's sidecar now; ``None`` when the record is gone."""
        with self._engine.connect() as conn:
            made = _DOCUMENTS[kind](conn, record_id)
        if made is None:
            return None
        return json.dumps({"format": FORMAT, "kind": kind.value} | made, default=_iso).encode()

    def is_empty(self) -> bool:
        with self._engine.connect() as conn:
            return conn.execute(select(users.c.id).limit(1)).first() is None

    def restore(self, kind: SidecarKind, documents: Iterable[bytes]) -> int:
        """Insert the records of these sidecars; users first, then photos, then albums."""
        restored = 0
        with writing(self._engine) as conn:
            parsed = [json.loads(document) for document in documents]
            if kind is SidecarKind.ALBUM:
                parsed = _parents_first(parsed)
            for doc in parsed:
                _RESTORERS[kind](conn, doc)
                restored += 1
            conn.execute(delete(sidecar_outbox).where(sidecar_outbox.c.kind == kind.value))
        return restored


def _photo(conn: Connection, photo_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(photos).where(photos.c.id == photo_id)).mappings().first()
    if row is None:
        return None
    place = None
    if row["place_id"] is not None:
        found = conn.execute(select(places).where(places.c.id == row["place_id"])).mappings()
        place = _without(found.first() or {}, "id") or None
    return {
        "photo": _without(row, "place_id"),
        "place": place,
        "derivatives": _rows(conn, derivatives, derivatives.c.photo_id == photo_id),
        "tags": _rows(conn, photo_tags, photo_tags.c.photo_id == photo_id),
    }


def _album(conn: Connection, album_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(albums).where(albums.c.id == album_id)).mappings().first()
    if row is None:
        return None
    order = album_photos.c.position
    return {
        "album": _without(row, "photo_count"),  # counted again by triggers as photos go in
        "photos": _rows(conn, album_photos, album_photos.c.album_id == album_id, order),
        "members": _rows(conn, album_members, album_members.c.album_id == album_id),
    }


def _user(conn: Connection, user_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        return None
    return {"user": dict(row), "api_keys": _rows(conn, api_keys, api_keys.c.user_id == user_id)}


_DOCUMENTS = {SidecarKind.PHOTO: _photo, SidecarKind.ALBUM: _album, SidecarKind.USER: _user}


def _restore_user(conn: Connection, doc: dict[str, Any]) -> None:
    _insert(conn, users, [doc["user"]])
    _insert(conn, api_keys, doc["api_keys"])


def _restore_photo(conn: Connection, doc: dict[str, Any]) -> None:
    photo = dict(doc["photo"])
    photo["analysis_version"] = None  # faces and likeness are found again
    photo["analysis_error"] = None
    if doc.get("place"):
        photo["place_id"] = _place_id(conn, doc["place"])
    if photo.get("lat") is not None and photo.get("lon") is not None:
        # its map cell, from its position (a sidecar older than the map has none)
        photo["map_x"], photo["map_y"] = grid_cell(photo["lat"], photo["lon"])
    _insert(conn, photos, [photo])
    _insert(conn, derivatives, doc["derivatives"])
    _insert(conn, photo_tags, doc["tags"])


def _restore_album(conn: Connection, doc: dict[str, Any]) -> None:
    album = dict(doc["album"])
    album["cover_photo_id"] = _existing_photo(conn, album.get("cover_photo_id"))
    _insert(conn, albums, [album])
    present = [row for row in doc["photos"] if _existing_photo(conn, row["photo_id"])]
    _insert(conn, album_photos, present)
    _insert(conn, album_members, doc["members"])


_RESTORERS = {
    SidecarKind.PHOTO: _restore_photo,
    SidecarKind.ALBUM: _restore_album,
    SidecarKind.USER: _restore_user,
}


def _place_id(conn: Connection, place: Mapping[str, Any]) -> int:
    columns = (places.c.country_code, places.c.region, places.c.city)
    match = and_(*(column == place[column.name] for column in columns))
    found = conn.execute(select(places.c.id).where(match)).scalar()
    if found is not None:
        return int(found)
    added = insert(places).values(**_columns(places, place)).returning(places.c.id)
    return int(conn.execute(added).scalar_one())


def _existing_photo(conn: Connection, photo_id: str | None) -> str | None:
    if photo_id is None:
        return None
    return conn.execute(select(photos.c.id).where(photos.c.id == photo_id)).scalar()


def _parents_first(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {doc["album"]["id"]: doc for doc in docs}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(album_id: str) -> None:
        if album_id in placed or album_id not in by_id:
            return
        placed.add(album_id)
        parent = by_id[album_id]["album"].get("parent_id")
        if parent:
            place(parent)
        ordered.append(by_id[album_id])

    for album_id in by_id:
        place(album_id)
    return ordered


def _insert(conn: Connection, table: Table, rows: list[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), [_columns(table, row) for row in rows])


def _columns(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row's values for the columns the table has now, datetimes parsed back."""
    found = {}
    for column in table.columns:
        if column.name in row:
            value = row[column.name]
            if isinstance(column.type, DateTime) and isinstance(value, str):
                value = datetime.fromisoformat(value)
            found[column.name] = value
    return found


def _rows(conn: Connection, table: Table, where: Any, order: Any = None) -> list[dict[str, Any]]:
    query = select(table).where(where)
    if order is not None:
        query = query.order_by(order)
    return [dict(row) for row in conn.execute(query).mappings()]


def _without(row: Mapping[Any, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in names}


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
