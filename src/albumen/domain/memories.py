"""Memories: the photos of this day in earlier years, and recent trips, found in the library.

*On this day*: each earlier year with photos taken on today's month and day (the local day of
capture, as the timeline counts them). *Trips*: consecutive days whose photos were taken far
from home; home is where most of the library's located photos were taken (the most counted
cell of about 39 km of the map's grid). A day with photos at home ends a trip; a day without
photos between two days away does not. A trip is at least ``TRIP_DAYS`` days and
``TRIP_PHOTOS`` photos, and is recent when it ended within ``RECENT`` of today.

A memory's ``key`` names it for good (``on-this-day-2019-12-08``, ``trip-2024-05-01-2024-05-06``):
hiding one keeps its key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from albumen.domain.errors import InvalidInput

AWAY_KM = 100.0  # farther than this from home is away
TRIP_DAYS = 2
TRIP_PHOTOS = 3
RECENT = timedelta(days=365)
MAX_TRIPS = 6
GAP_DAYS = 1  # days without photos a trip may hold between two days away
EARTH_RADIUS_KM = 6371.0088
_KEY = re.compile(
    r"^(?:on-this-day-(\d{4}-\d{2}-\d{2})|trip-(\d{4}-\d{2}-\d{2})-(\d{4}-\d{2}-\d{2}))$"
)


class MemoryKind(StrEnum):
    ON_THIS_DAY = "on_this_day"
    TRIP = "trip"


@dataclass(frozen=True, slots=True)
class Memory:
    kind: MemoryKind
    start: date
    end: date  # inclusive
    count: int
    places: tuple[str, ...] = ()  # where a trip went, most photographed first
    cover_ids: tuple[str, ...] = field(default=())  # the photos shown for it, best first

    @property
    def key(self) -> str:
        if self.kind is MemoryKind.ON_THIS_DAY:
            return f"on-this-day-{self.start.isoformat()}"
        return f"trip-{self.start.isoformat()}-{self.end.isoformat()}"

    def years_ago(self, today: date) -> int:
        return today.year - self.start.year


@dataclass(frozen=True, slots=True)
class DayAway:
    """One day's located photos: how many, and where their middle is."""

    day: date
    count: int
    lat: float
    lon: float


def parse_key(key: str) -> tuple[date, date]:
    """The days a memory's key names (``InvalidInput`` for what is no memory's key)."""
    found = _KEY.match(key)
    if found is None:
        raise InvalidInput("no memory has this key", code="invalid_memory")
    try:
        if found.group(1):
            day = date.fromisoformat(found.group(1))
            return day, day
        start, end = date.fromisoformat(found.group(2)), date.fromisoformat(found.group(3))
    except ValueError:
        raise InvalidInput("no memory has this key", code="invalid_memory") from None
    if end < start or end - start > timedelta(days=366):
        raise InvalidInput("no memory has this key", code="invalid_memory")
    return start, end


def ranked_places(places: dict[str, int], most: int = 3) -> tuple[str, ...]:
    """The most photographed places first (by name where as many)."""
    return tuple(sorted(places, key=lambda label: (-places[label], label))[:most])


def same_day_earlier(today: date, days: Iterable[tuple[date, int]]) -> list[Memory]:
    """*On this day*: each earlier year's photos of today's month and day, newest first."""
    found = [
        Memory(MemoryKind.ON_THIS_DAY, day, day, count)
        for day, count in days
        if (day.month, day.day) == (today.month, today.day) and day.year < today.year
    ]
    return sorted(found, key=lambda memory: memory.start, reverse=True)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def trips(days: Sequence[DayAway], home: tuple[float, float], today: date) -> list[Memory]:
    """The recent trips among these days (any order), newest first."""
    found: list[Memory] = []
    run: list[DayAway] = []

    def close() -> None:
        count = sum(day.count for day in run)
        span = (run[-1].day - run[0].day).days + 1 if run else 0
        if span >= TRIP_DAYS and count >= TRIP_PHOTOS and today - run[-1].day <= RECENT:
            found.append(Memory(MemoryKind.TRIP, run[0].day, run[-1].day, count))
        run.clear()

    for day in sorted(days, key=lambda d: d.day):
        if day.day >= today:
            continue  # a trip still going on is not a memory yet
        away = distance_km(day.lat, day.lon, *home) > AWAY_KM
        if not away:
            close()
            continue
        if run and (day.day - run[-1].day).days > GAP_DAYS + 1:
            close()
        run.append(day)
    close()
    return sorted(found, key=lambda memory: memory.start, reverse=True)[:MAX_TRIPS]
