"""``SqlMemoryRepo``: what memories are found from (the day counts, the map's cells, each day's
located photos, all kept by triggers) and the memories each user hid."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, text

from albumen.adapters.db.engine import dialect_insert, writing
from albumen.adapters.db.photos import keyset_page, photo_query
from albumen.adapters.db.tables import (
    hidden_memories,
    located_days,
    map_cells,
    photos,
    timeline_days,
)
from albumen.domain.memories import DayAway
from albumen.domain.photos import Page, TimelineCursor, sort_key
from albumen.domain.places import Place

HOME_LEVEL = 10  # cells of 360/2^10 degrees, about 39 km: a home town
REGION_LEVEL = 6  # about 630 km: where home is looked for
_MARGIN = timedelta(days=2)  # a local day is within a day of the moment's UTC date


class SqlMemoryRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def days_on(self, owner_id: str, month: int, day: int) -> list[tuple[date, int]]:
        """The timeline's photos per day on this month and day, every year."""
        query = select(timeline_days.c.day, timeline_days.c.count.label("photos")).where(
            timeline_days.c.owner_id == owner_id,
            func.substr(timeline_days.c.day, 6, 5) == f"{month:02d}-{day:02d}",
        )
        with self._engine.connect() as conn:
            return [(date.fromisoformat(row.day), int(row.photos)) for row in conn.execute(query)]

    def count_between(self, owner_id: str, start: date, end: date) -> int:
        """The timeline's photos taken from ``start`` to ``end`` (local days, inclusive)."""
        query = select(func.coalesce(func.sum(timeline_days.c.count), 0)).where(
            timeline_days.c.owner_id == owner_id,
            timeline_days.c.day.between(start.isoformat(), end.isoformat()),
        )
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def home(self, owner_id: str) -> tuple[float, float] | None:
        """The middle of the cell of about 39 km where most of the owner's located photos are,
        looked for inside the cell of about 630 km that holds the most (two short reads of the
        map's counts, however many places the library holds)."""
        with self._engine.connect() as conn:
            region = _most(conn, owner_id, REGION_LEVEL)
            if region is None:
                return None
            size = 1 << (HOME_LEVEL - REGION_LEVEL)
            x, y = region.x * size, region.y * size
            home = _most(conn, owner_id, HOME_LEVEL, (x, x + size - 1, y, y + size - 1))
        found = home or region
        return float(found.lat_sum) / found.photos, float(found.lon_sum) / found.photos

    def located_days(self, owner_id: str, start: date, end: date) -> list[DayAway]:
        """Each local day from ``start`` to ``end`` with located photos of the timeline, from
        the counts the triggers keep (a row a day, whatever the library holds)."""
        query = select(
            located_days.c.day,
            located_days.c.count.label("photos"),
            located_days.c.lat_sum,
            located_days.c.lon_sum,
        ).where(
            located_days.c.owner_id == owner_id,
            located_days.c.day.between(start.isoformat(), end.isoformat()),
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            DayAway(
                date.fromisoformat(row.day),
                int(row.photos),
                float(row.lat_sum) / row.photos,
                float(row.lon_sum) / row.photos,
            )
            for row in rows
            if row.photos > 0
        ]

    def places_between(self, owner_id: str, start: date, end: date) -> dict[str, int]:
        """The places of the timeline's photos of these local days, and how many each."""
        with self._engine.connect() as conn:
            sql = f"""
                SELECT c.city, c.region, c.country, c.country_code, count(*) AS n
                FROM photos p JOIN places c ON c.id = p.place_id
                WHERE p.owner_id = :owner AND p.deleted_at IS NULL AND NOT p.archived
                    AND p.doc_id >= :low AND p.doc_id < :high
                    AND {_local_day(conn)} BETWEEN :first AND :last
                GROUP BY c.city, c.region, c.country, c.country_code"""
            params = _bounds(owner_id, start, end) | {
                "first": start.isoformat(),
                "last": end.isoformat(),
            }
            return {
                Place(row.city, row.region, row.country, row.country_code).label: int(row.n)
                for row in conn.execute(text(sql), params)
            }

    def covers(
        self, owner_id: str, spans: Sequence[tuple[date, date]], limit: int
    ) -> list[list[str]]:
        """For each span of local days, the photos to show for it: favourites first, then the
        newest (each span a walk of its own stretch of the timeline's index)."""
        with self._engine.connect() as conn:
            sql = text(f"""
                SELECT p.id FROM photos p
                WHERE p.owner_id = :owner AND p.deleted_at IS NULL AND NOT p.archived
                    AND p.status = 'ready' AND p.doc_id >= :low AND p.doc_id < :high
                    AND {_local_day(conn)} BETWEEN :first AND :last
                ORDER BY p.favorite DESC, p.doc_id DESC LIMIT :limit""")
            return [
                [
                    str(found)
                    for found in conn.execute(
                        sql,
                        _bounds(owner_id, start, end)
                        | {"first": start.isoformat(), "last": end.isoformat(), "limit": limit},
                    ).scalars()
                ]
                for start, end in spans
            ]

    def photos_page(
        self, owner_id: str, start: date, end: date, limit: int, after: TimelineCursor | None
    ) -> Page:
        """The timeline's photos of the local days from ``start`` to ``end``, newest first."""
        bounds = _bounds(owner_id, start, end)
        day = _LOCAL_DAY[self._engine.dialect.name]
        query = (
            photo_query()
            .where(
                photos.c.owner_id == owner_id,
                photos.c.deleted_at.is_(None),
                photos.c.archived.is_(False),
                photos.c.doc_id >= bounds["low"],
                photos.c.doc_id < (after.doc_id if after else bounds["high"]),
                day.between(start.isoformat(), end.isoformat()),
            )
            .order_by(photos.c.doc_id.desc())
            .limit(limit + 1)
        )
        return keyset_page(self._engine, query, limit)

    def hidden(self, owner_id: str) -> set[str]:
        query = select(hidden_memories.c.key).where(hidden_memories.c.owner_id == owner_id)
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def hide(self, owner_id: str, key: str, now: datetime) -> None:
        values = {"owner_id": owner_id, "key": key, "hidden_at": now}
        with writing(self._engine) as conn:
            conn.execute(
                dialect_insert(conn, hidden_memories).values(values).on_conflict_do_nothing()
            )

    def show(self, owner_id: str, key: str) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                delete(hidden_memories).where(
                    hidden_memories.c.owner_id == owner_id, hidden_memories.c.key == key
                )
            )


_LOCAL_DAY = {
    "sqlite": func.date(func.coalesce(photos.c.taken_local, photos.c.sort_at)),
    "postgresql": func.timeline_day(photos.c.taken_local, photos.c.sort_at),
}


def _most(
    conn: Connection, owner_id: str, level: int, within: tuple[int, int, int, int] | None = None
) -> Any:
    """The owner's cell of ``level`` with the most photos (within x and y ranges)."""
    query = select(
        map_cells.c.x,
        map_cells.c.y,
        map_cells.c.lat_sum,
        map_cells.c.lon_sum,
        map_cells.c.count.label("photos"),
    ).where(map_cells.c.owner_id == owner_id, map_cells.c.level == level)
    if within is not None:
        query = query.where(
            map_cells.c.x.between(within[0], within[1]), map_cells.c.y.between(within[2], within[3])
        )
    return conn.execute(query.order_by(map_cells.c.count.desc()).limit(1)).first()


def _local_day(conn: Connection) -> str:
    """The local day of capture as the day counts have it (``YYYY-MM-DD``)."""
    if conn.dialect.name == "postgresql":
        return "timeline_day(p.taken_local, p.sort_at)"
    return "date(coalesce(p.taken_local, p.sort_at))"


def _bounds(owner_id: str, start: date, end: date) -> dict[str, Any]:
    """The ``doc_id`` range holding every photo whose local day is from ``start`` to ``end``
    (the timeline's order is the UTC moment: a local day is within a day of it)."""
    low = datetime.combine(start - _MARGIN, time())
    high = datetime.combine(end + _MARGIN, time())
    return {"owner": owner_id, "low": sort_key(low), "high": sort_key(high)}
