"""``OfflineGeocoder``: place names from GeoNames data shipped in ``reverse_geocode``, and time
zones from the boundaries shipped in ``timezonefinder``. Nothing goes to the network. Each is
loaded once per process, on first use (about 1 s and 40 MB)."""

from __future__ import annotations

import math
import threading
from functools import cached_property
from typing import Any

from albumen.domain.places import Place
from albumen.domain.search import EARTH_RADIUS_KM

MAX_DISTANCE_KM = 100.0


class OfflineGeocoder:
    def __init__(self) -> None:
        self._lock = threading.Lock()

    def place(self, lat: float, lon: float) -> Place | None:
        with self._lock:
            found: dict[str, Any] = self._places.get((lat, lon))
        city = str(found.get("city") or "")
        if not city or _km(lat, lon, found["latitude"], found["longitude"]) > MAX_DISTANCE_KM:
            return None  # open sea, or wilderness far from any named place
        return Place(
            city=city,
            region=str(found.get("state") or ""),
            country=str(found.get("country") or ""),
            country_code=str(found.get("country_code") or ""),
        )

    def timezone(self, lat: float, lon: float) -> str | None:
        with self._lock:
            zone: str | None = self._zones.timezone_at(lng=lon, lat=lat)
        return zone

    @cached_property
    def _places(self) -> Any:
        import reverse_geocode  # 1 s to load the cities: only where photos are processed

        return reverse_geocode

    @cached_property
    def _zones(self) -> Any:
        from timezonefinder import TimezoneFinder

        return TimezoneFinder()


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat, dlon = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = (
        math.sin(dlat / 2) ** 2
        + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlon / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
