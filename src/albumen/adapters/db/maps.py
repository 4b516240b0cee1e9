"""``SqlMapIndex``: the clusters of a map, from the counts the triggers keep (a library) or
from the photos themselves (an album's few)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    func,
    literal,
    or_,
    select,
)

from albumen.adapters.db.tables import album_photos, map_cells, photos
from albumen.domain.maps import FINEST, Cell, CellRange, Cluster, stored_level
from albumen.domain.search import Box


class SqlMapIndex:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def clusters(self, owner_id: str, cells: CellRange) -> list[Cluster]:
        """The owner's timeline (not trashed, not archived) in these cells, one cluster per
        non-empty cell: read from ``map_cells`` at the stored level at or just below."""
        stored = stored_level(cells.level)
        shift = stored - cells.level
        finer = cells.at(stored)
        x, y = map_cells.c.x.op(">>")(shift), map_cells.c.y.op(">>")(shift)
        query = (
            select(
                x.label("x"),
                y.label("y"),
                func.sum(map_cells.c.count).label("photos"),
                func.sum(map_cells.c.lat_sum).label("lat_sum"),
                func.sum(map_cells.c.lon_sum).label("lon_sum"),
                func.max(map_cells.c.cover).label("cover"),
            )
            .where(
                map_cells.c.owner_id == owner_id,
                map_cells.c.level == stored,
                _within(map_cells.c.x, map_cells.c.y, finer),
            )
            .group_by(x, y)
        )
        with self._engine.connect() as conn:
            return _clusters(conn, query, cells.level)

    def album_clusters(self, album_ids: Sequence[str], cells: CellRange) -> list[Cluster]:
        """The photos (not trashed) of these albums in these cells, counted from the photos."""
        shift = FINEST - cells.level
        x, y = photos.c.map_x.op(">>")(shift), photos.c.map_y.op(">>")(shift)
        member = select(album_photos.c.photo_id).where(album_photos.c.album_id.in_(album_ids))
        query = (
            select(
                x.label("x"),
                y.label("y"),
                func.count().label("photos"),
                func.sum(photos.c.lat).label("lat_sum"),
                func.sum(photos.c.lon).label("lon_sum"),
                func.max(photos.c.doc_id).label("cover"),
            )
            .where(
                photos.c.id.in_(member),
                photos.c.deleted_at.is_(None),
                photos.c.map_x.is_not(None),
                _within(x, y, cells),
            )
            .group_by(x, y)
        )
        with self._engine.connect() as conn:
            return _clusters(conn, query, cells.level)

    def photo_ids(self, doc_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """Each cover's photo id and thumbhash."""
        if not doc_ids:
            return {}
        query = select(photos.c.doc_id, photos.c.id, photos.c.thumbhash).where(
            photos.c.doc_id.in_(doc_ids)
        )
        with self._engine.connect() as conn:
            return {row.doc_id: (row.id, row.thumbhash) for row in conn.execute(query)}


def in_box(box: Box) -> ColumnElement[bool]:
    """A photo located in the box (``west > east`` crosses the antimeridian)."""
    lon = photos.c.lon
    west, east = lon >= box.west, lon <= box.east
    return and_(
        photos.c.lat.between(box.south, box.north),
        and_(west, east) if box.west <= box.east else or_(west, east),
    )


def _within(x: ColumnElement[Any], y: ColumnElement[Any], cells: CellRange) -> ColumnElement[bool]:
    spans = [x.between(literal(west), literal(east)) for west, east in cells.x_spans]
    return and_(or_(*spans), y.between(literal(cells.south), literal(cells.north)))


def _clusters(conn: Connection, query: Select[Any], level: int) -> list[Cluster]:
    return [
        Cluster(
            cell=Cell(level, int(row.x), int(row.y)),
            count=int(row.photos),
            lat=float(row.lat_sum) / row.photos,
            lon=float(row.lon_sum) / row.photos,
            cover=int(row.cover),
        )
        for row in conn.execute(query)
        if row.photos > 0 and row.cover is not None
    ]
