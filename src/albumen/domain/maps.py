"""The map of a library: photos counted in the cells of a grid, at the scale the map is seen.

The world is cut into square cells of ``360 / 2**level`` degrees (longitude from -180, latitude
from -90), at every level from 0 (one cell) to ``FINEST`` (about 38 m at the equator). Each
located photo knows its cell at the finest level (``grid_cell``); its cell at any coarser level
is that cell's coordinates shifted right. The database keeps each owner's counts at every
``STORED`` level (``map_cells``, kept by triggers), so that a map at any scale reads a bounded
number of cells, never the photos themselves: a million photos cost what a hundred do.

A map asks for a box and its zoom (the web map's: a 256-pixel world at zoom 0). A cluster is
what falls in one cell of ``level = zoom + 2`` (cells about 64 pixels across), coarser where the
box would hold more than ``MAX_CELLS`` of them: the answer is bounded whatever is asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from albumen.domain.errors import InvalidInput
from albumen.domain.search import Box

FINEST = 20
STORED = tuple(range(0, FINEST + 1, 2))  # the levels whose counts the database keeps
MAX_ZOOM = 22
MAX_CELLS = 1024  # the most cells (so clusters) one answer covers
_SCALE = 1 << FINEST


@dataclass(frozen=True, slots=True)
class Cell:
    level: int
    x: int
    y: int

    @property
    def box(self) -> Box:
        size = 360.0 / (1 << self.level)
        west, south = self.x * size - 180.0, self.y * size - 90.0
        return Box(max(-90.0, south), west, min(90.0, south + size), min(180.0, west + size))


@dataclass(frozen=True, slots=True)
class Cluster:
    """The located photos of one cell: how many, where their middle is, and the newest of them
    (its ``doc_id``, which the service turns into a photo) to show for them."""

    cell: Cell
    count: int
    lat: float
    lon: float
    cover: int


@dataclass(frozen=True, slots=True)
class CellRange:
    """The cells of ``level`` a box covers: x from ``west`` to ``east`` (both included; where
    ``west > east`` the range crosses the antimeridian), y from ``south`` to ``north``."""

    level: int
    west: int
    east: int
    south: int
    north: int

    @property
    def x_spans(self) -> list[tuple[int, int]]:
        if self.west <= self.east:
            return [(self.west, self.east)]
        return [(self.west, (1 << self.level) - 1), (0, self.east)]

    @property
    def cells(self) -> int:
        width = sum(east - west + 1 for west, east in self.x_spans)
        return width * (self.north - self.south + 1)

    def at(self, level: int) -> CellRange:
        """The same box at a finer (or equal) level."""
        shift = level - self.level
        last = (1 << shift) - 1
        return CellRange(
            level,
            self.west << shift,
            (self.east << shift) + last,
            self.south << shift,
            (self.north << shift) + last,
        )


def grid_cell(lat: float, lon: float) -> tuple[int, int]:
    """A position's cell at the finest level. The database's triggers and backfill compute
    nothing themselves: they shift these two numbers, so both worlds agree to the bit."""
    x = int((lon + 180.0) * _SCALE / 360.0)
    y = int((lat + 90.0) * _SCALE / 360.0)
    return min(max(x, 0), _SCALE - 1), min(max(y, 0), _SCALE // 2 - 1)


def level_for(zoom: int) -> int:
    """The level whose cells are about 64 pixels wide on a web map at ``zoom``."""
    if not 0 <= zoom <= MAX_ZOOM:
        raise InvalidInput(f"zoom must be from 0 to {MAX_ZOOM}", code="invalid_zoom")
    return min(zoom + 2, FINEST)


def cells_of(box: Box, level: int) -> CellRange:
    """The cells a box covers at ``level``, or at the finest coarser level where it covers
    at most ``MAX_CELLS``."""
    while True:
        found = _cells(box, level)
        if found.cells <= MAX_CELLS or level == 0:
            return found
        level -= 1


def stored_level(level: int) -> int:
    """The level whose kept counts add up to ``level``'s: itself, or the next finer one."""
    return level + level % 2


def _cells(box: Box, level: int) -> CellRange:
    size = 360.0 / (1 << level)
    last_x, last_y = (1 << level) - 1, max(0, (1 << level) // 2 - 1)

    def index(degrees: float, last: int) -> int:
        return min(max(math.floor(degrees / size), 0), last)

    west, east = index(box.west + 180.0, last_x), index(box.east + 180.0, last_x)
    if box.west <= box.east and east < west:
        east = west
    return CellRange(
        level, west, east, index(box.south + 90.0, last_y), index(box.north + 90.0, last_y)
    )
