"""``SqlAlbumRepo``: albums, their photos and members. Trees are walked with recursive CTEs,
which SQLite and PostgreSQL read alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)

from albumen.adapters.db.engine import writing
from albumen.adapters.db.maps import in_box
from albumen.adapters.db.photos import keyset_page, photo_query, photo_rows
from albumen.adapters.db.tables import album_members, album_photos, albums, photos, users
from albumen.domain.albums import Album, AlbumEdit, AlbumOrder, AlbumRole, Member
from albumen.domain.photos import Page, TimelineCursor
from albumen.domain.search import Box

_SUBTREE = """
WITH RECURSIVE tree(root, id) AS (
    SELECT id, id FROM albums WHERE id IN ({roots})
    UNION SELECT tree.root, a.id FROM albums a JOIN tree ON a.parent_id = tree.id
)"""
_ANCESTORS = """
WITH RECURSIVE up(id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM albums WHERE id = :album
    UNION ALL SELECT a.id, a.parent_id, up.depth + 1 FROM albums a JOIN up ON a.id = up.parent_id
    WHERE up.depth < 100
)"""


class SqlAlbumRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, album: Album) -> None:
        with writing(self._engine) as conn:
            conn.execute(insert(albums).values(_values(album)))

    def get(self, album_id: str) -> Album | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(albums).where(albums.c.id == album_id)).first()
        return None if row is None else _album(row)

    def role(self, user_id: str, album_id: str) -> AlbumRole | None:
        """The user's role on the album: owner, or a member of it or of an album above it."""
        query = text(
            _ANCESTORS
            + """
            SELECT CASE WHEN a.owner_id = :user THEN 'owner' ELSE (
                SELECT m.role FROM up JOIN album_members m ON m.album_id = up.id
                WHERE m.user_id = :user ORDER BY up.depth LIMIT 1) END
            FROM albums a WHERE a.id = :album"""
        )
        with self._engine.connect() as conn:
            found = conn.execute(query, {"album": album_id, "user": user_id}).scalar()
        return None if found is None else AlbumRole(found)

    def visible(self, user_id: str, with_totals: bool) -> list[Album]:
        """The user's own albums and those shared with them, with counts, in a fixed number of
        queries whatever their number."""
        owned = select(albums, literal(AlbumRole.OWNER.value).label("role")).where(
            albums.c.owner_id == user_id
        )
        shared = (
            select(albums, album_members.c.role)
            .join(album_members, album_members.c.album_id == albums.c.id)
            .where(album_members.c.user_id == user_id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(owned.union_all(shared).order_by(albums.c.name)).all()
            totals = _total_counts(conn, [row.id for row in rows]) if with_totals else {}
        return [_album(row, totals.get(row.id, 0) if with_totals else None) for row in rows]

    def find(self, user_id: str, name_or_id: str) -> str | None:
        """The id of an album the user owns or is a member of, by id or name (any case)."""
        own = select(albums.c.id, albums.c.name).where(albums.c.owner_id == user_id)
        shared = (
            select(albums.c.id, albums.c.name)
            .join(album_members, album_members.c.album_id == albums.c.id)
            .where(album_members.c.user_id == user_id)
        )
        wanted = name_or_id.strip().casefold()
        with self._engine.connect() as conn:
            for album_id, name in conn.execute(own.union_all(shared)):
                if wanted in (album_id, name.casefold()):
                    return str(album_id)
        return None

    def children(self, album_id: str) -> list[Album]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(albums).where(albums.c.parent_id == album_id).order_by(albums.c.name)
            ).all()
        return [_album(row) for row in rows]

    def ancestors(self, album_id: str) -> list[Album]:
        """From the top of the tree down to the album's parent (breadcrumbs)."""
        query = text(_ANCESTORS + " SELECT id FROM up WHERE depth > 0 ORDER BY depth DESC")
        with self._engine.connect() as conn:
            ids = list(conn.execute(query, {"album": album_id}).scalars())
            rows = {row.id: row for row in conn.execute(select(albums).where(albums.c.id.in_(ids)))}
        return [_album(rows[found]) for found in ids]

    def subtree(self, album_id: str) -> list[str]:
        """The album and every album below it."""
        query = text(_SUBTREE.format(roots=":root") + " SELECT id FROM tree")
        with self._engine.connect() as conn:
            return list(conn.execute(query, {"root": album_id}).scalars())

    def total_count(self, album_id: str) -> int:
        with self._engine.connect() as conn:
            return _total_counts(conn, [album_id]).get(album_id, 0)

    def edit(self, album_id: str, edit: AlbumEdit, now: datetime) -> None:
        values: dict[str, Any] = {"updated_at": now}
        for name in ("name", "description", "cover_photo_id"):
            if getattr(edit, name) is not None:
                values[name] = getattr(edit, name) or None
        if edit.order is not None:
            values["sort_order"] = edit.order.value
        if edit.parent_id is not None:
            values["parent_id"] = edit.parent_id or None
        with writing(self._engine) as conn:
            conn.execute(update(albums).where(albums.c.id == album_id).values(values))

    def delete(self, album_id: str) -> None:
        """Delete the album and its sub-albums; their photos stay."""
        with writing(self._engine) as conn:
            conn.execute(delete(albums).where(albums.c.id == album_id))

    def add_photos(
        self, album_id: str, photo_ids: Sequence[str], user_id: str, now: datetime
    ) -> list[str]:
        """Add photos at the end of the manual order; the ids that were not there yet."""
        with writing(self._engine) as conn:
            present = set(
                conn.execute(
                    select(album_photos.c.photo_id).where(
                        album_photos.c.album_id == album_id,
                        album_photos.c.photo_id.in_(photo_ids),
                    )
                ).scalars()
            )
            new = [photo_id for photo_id in dict.fromkeys(photo_ids) if photo_id not in present]
            last = conn.execute(
                select(func.max(album_photos.c.position)).where(album_photos.c.album_id == album_id)
            ).scalar()
            start = (last or 0.0) + 1.0
            rows = [
                {
                    "album_id": album_id,
                    "photo_id": photo_id,
                    "position": start + n,
                    "added_by": user_id,
                    "added_at": now,
                }
                for n, photo_id in enumerate(new)
            ]
            if rows:
                conn.execute(insert(album_photos), rows)
                _touch(conn, album_id, now)
        return new

    def remove_photos(
        self, album_id: str, photo_ids: Sequence[str], added_by: str | None, now: datetime
    ) -> list[str]:
        """Take photos out (only those ``added_by`` added, when given); the ids removed."""
        where = [album_photos.c.album_id == album_id, album_photos.c.photo_id.in_(photo_ids)]
        if added_by is not None:
            where.append(album_photos.c.added_by == added_by)
        with writing(self._engine) as conn:
            gone = list(conn.execute(select(album_photos.c.photo_id).where(*where)).scalars())
            conn.execute(delete(album_photos).where(*where))
            if gone:
                _touch(conn, album_id, now)
        return gone

    def move_photos(self, album_id: str, photo_ids: Sequence[str], before: str | None) -> list[str]:
        """Put these photos, in this order, just before ``before`` (at the end if ``None``);
        when some are not in the album, nothing moves and they are returned."""
        with writing(self._engine) as conn:
            order = list(
                conn.execute(
                    select(album_photos.c.photo_id)
                    .where(album_photos.c.album_id == album_id)
                    .order_by(album_photos.c.position)
                ).scalars()
            )
            absent = [p for p in dict.fromkeys(photo_ids) if p not in set(order)]
            if absent:
                return absent
            moving = list(dict.fromkeys(photo_ids))
            rest = [p for p in order if p not in set(moving)]
            at = rest.index(before) if before in rest else len(rest)
            final = rest[:at] + moving + rest[at:]
            conn.execute(
                update(album_photos)
                .where(
                    album_photos.c.album_id == album_id,
                    album_photos.c.photo_id == bindparam("moved"),
                )
                .values(position=bindparam("place")),
                [{"moved": p, "place": float(n)} for n, p in enumerate(final, 1)],
            )
        return []

    def photos_page(
        self,
        album_ids: Sequence[str],
        order: AlbumOrder,
        limit: int,
        after: TimelineCursor | None,
        within: Box | None = None,
    ) -> Page:
        """Photos (not trashed) of these albums, ``within`` a box if one is given. Manual order
        only makes sense for one album."""
        member = select(album_photos.c.photo_id).where(album_photos.c.album_id.in_(album_ids))
        query = photo_query().where(photos.c.deleted_at.is_(None)).limit(limit + 1)
        if within is not None:
            query = query.where(in_box(within))
        if order is AlbumOrder.MANUAL and len(album_ids) == 1:
            return self._manual_page(album_ids[0], limit, after, within)
        query = query.where(photos.c.id.in_(member))
        if order is AlbumOrder.OLDEST:
            query = query.order_by(photos.c.doc_id)
            if after is not None:
                query = query.where(photos.c.doc_id > after.doc_id)
        else:
            query = query.order_by(photos.c.doc_id.desc())
            if after is not None:
                query = query.where(photos.c.doc_id < after.doc_id)
        return keyset_page(self._engine, query, limit)

    def _manual_page(
        self, album_id: str, limit: int, after: TimelineCursor | None, within: Box | None
    ) -> Page:
        query = (
            photo_query()
            .add_columns(album_photos.c.position)
            .join(album_photos, album_photos.c.photo_id == photos.c.id)
            .where(album_photos.c.album_id == album_id, photos.c.deleted_at.is_(None))
            .order_by(album_photos.c.position)
            .limit(limit + 1)
        )
        if within is not None:
            query = query.where(in_box(within))
        if after is not None and after.rank is not None:
            query = query.where(album_photos.c.position > after.rank)
        with self._engine.connect() as conn:
            found = photo_rows(conn, query)
            if len(found) <= limit:
                return Page(photos=found, next_cursor=None)
            last = found[limit - 1]
            position = conn.execute(
                select(album_photos.c.position).where(
                    album_photos.c.album_id == album_id, album_photos.c.photo_id == last.id
                )
            ).scalar()
        return Page(photos=found[:limit], next_cursor=TimelineCursor(last.doc_id, position))

    def of_photo(self, user_id: str, photo_id: str) -> list[Album]:
        """The albums this user can see that hold the photo."""
        holding = set(self._holding(photo_id))
        return [album for album in self.visible(user_id, with_totals=False) if album.id in holding]

    def _holding(self, photo_id: str) -> list[str]:
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    select(album_photos.c.album_id).where(album_photos.c.photo_id == photo_id)
                ).scalars()
            )

    def holds(self, album_id: str, photo_id: str) -> bool:
        """Whether the photo is in the album or one below it."""
        query = text(
            _SUBTREE.format(roots=":root") + " SELECT 1 FROM album_photos WHERE photo_id = :photo"
            " AND album_id IN (SELECT id FROM tree) LIMIT 1"
        )
        with self._engine.connect() as conn:
            return conn.execute(query, {"root": album_id, "photo": photo_id}).first() is not None

    def member_can_view(self, user_id: str, photo_id: str) -> bool:
        """Whether an album shared with the user (or one above the photo's album) holds it."""
        query = text(
            """
            WITH RECURSIVE up(id) AS (
                SELECT album_id FROM album_photos WHERE photo_id = :photo
                UNION SELECT a.parent_id FROM albums a JOIN up ON a.id = up.id
                WHERE a.parent_id IS NOT NULL
            )
            SELECT 1 FROM up JOIN album_members m ON m.album_id = up.id
            WHERE m.user_id = :user LIMIT 1"""
        )
        with self._engine.connect() as conn:
            return conn.execute(query, {"photo": photo_id, "user": user_id}).first() is not None

    def members(self, album_id: str) -> list[Member]:
        query = (
            select(album_members.c.user_id, users.c.name, album_members.c.role)
            .join(users, users.c.id == album_members.c.user_id)
            .where(album_members.c.album_id == album_id)
            .order_by(users.c.name)
        )
        with self._engine.connect() as conn:
            return [
                Member(row.user_id, row.name, AlbumRole(row.role)) for row in conn.execute(query)
            ]

    def set_member(self, album_id: str, user_id: str, role: AlbumRole, now: datetime) -> None:
        key = (album_members.c.album_id == album_id) & (album_members.c.user_id == user_id)
        with writing(self._engine) as conn:
            if conn.execute(update(album_members).where(key).values(role=role.value)).rowcount:
                return
            conn.execute(
                insert(album_members).values(
                    album_id=album_id, user_id=user_id, role=role.value, added_at=now
                )
            )

    def remove_member(self, album_id: str, user_id: str) -> bool:
        key = (album_members.c.album_id == album_id) & (album_members.c.user_id == user_id)
        with writing(self._engine) as conn:
            return bool(conn.execute(delete(album_members).where(key)).rowcount)


def _total_counts(conn: Connection, ids: Sequence[str]) -> dict[str, int]:
    """Distinct photos in each album and everything below it, in one query."""
    if not ids:
        return {}
    roots = ", ".join(f":r{n}" for n in range(len(ids)))
    query = text(
        _SUBTREE.format(roots=roots)
        + """ SELECT tree.root, count(DISTINCT ap.photo_id) FROM tree
        JOIN album_photos ap ON ap.album_id = tree.id
        JOIN photos p ON p.id = ap.photo_id AND p.deleted_at IS NULL
        GROUP BY tree.root"""
    )
    params = {f"r{n}": album_id for n, album_id in enumerate(ids)}
    return {str(key): int(n) for key, n in conn.execute(query, params)}


def _touch(conn: Connection, album_id: str, now: datetime) -> None:
    conn.execute(update(albums).where(albums.c.id == album_id).values(updated_at=now))


def _values(album: Album) -> dict[str, Any]:
    return {
        "id": album.id,
        "owner_id": album.owner_id,
        "parent_id": album.parent_id,
        "name": album.name,
        "description": album.description,
        "cover_photo_id": album.cover_photo_id,
        "sort_order": album.order.value,
        "created_at": album.created_at,
        "updated_at": album.updated_at,
    }


def _album(row: Row[Any], total: int | None = None) -> Album:
    role = getattr(row, "role", None)
    return Album(
        id=row.id,
        owner_id=row.owner_id,
        parent_id=row.parent_id,
        name=row.name,
        description=row.description,
        cover_photo_id=row.cover_photo_id,
        order=AlbumOrder(row.sort_order),
        created_at=row.created_at,
        updated_at=row.updated_at,
        photo_count=row.photo_count,
        total_count=total,
        role=AlbumRole(role) if role else AlbumRole.OWNER,
    )
