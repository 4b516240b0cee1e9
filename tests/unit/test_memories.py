"""Finding trips and this day in earlier years (``domain.memories``)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from albumen.domain.errors import InvalidInput
from albumen.domain.memories import (
    DayAway,
    MemoryKind,
    distance_km,
    parse_key,
    ranked_places,
    same_day_earlier,
    trips,
)

HOME = (52.01, 4.36)  # Delft
LISBON = (38.72, -9.14)
LEIDEN = (52.16, 4.49)  # 19 km from home: not away
TODAY = date(2026, 12, 8)


def day(when: str, where: tuple[float, float], count: int = 2) -> DayAway:
    return DayAway(date.fromisoformat(when), count, *where)


def test_distances_are_great_circle_kilometres() -> None:
    assert distance_km(48.8566, 2.3522, 51.5072, -0.1276) == pytest.approx(344, rel=0.01)
    assert distance_km(*HOME, *LEIDEN) < 25
    assert distance_km(0, 179.9, 0, -179.9) == pytest.approx(22.2, rel=0.01)  # antimeridian


def test_a_trip_is_consecutive_days_away_and_a_day_without_photos_does_not_end_it() -> None:
    days = [
        day("2026-11-01", HOME),
        day("2026-11-02", LISBON, 3),
        day("2026-11-04", LISBON, 1),  # the 3rd had no photos
        day("2026-11-05", HOME),
        day("2026-11-10", LISBON),  # one day away: not a trip
        day("2026-11-11", LEIDEN),
    ]
    found = trips(days, HOME, TODAY)
    assert [(m.start, m.end, m.count) for m in found] == [(date(2026, 11, 2), date(2026, 11, 4), 4)]
    assert found[0].kind is MemoryKind.TRIP
    assert found[0].key == "trip-2026-11-02-2026-11-04"


def test_two_days_apart_end_a_trip_and_old_or_unfinished_trips_are_not_memories() -> None:
    days = [
        day("2026-10-01", LISBON),
        day("2026-10-04", LISBON),  # two days without photos: a new trip (too short)
        day("2025-11-01", LISBON),  # more than a year ago
        day("2025-11-02", LISBON),
        day("2026-12-07", LISBON),  # still away today
        day("2026-12-08", LISBON),
    ]
    assert trips(days, HOME, TODAY) == []
    almost = [day("2026-11-01", LISBON, 1), day("2026-11-02", LISBON, 1)]
    assert trips(almost, HOME, TODAY) == []  # two photos: too few to tell a story
    recent = [day((TODAY - timedelta(days=366)).isoformat(), LISBON), day("2025-12-08", LISBON)]
    assert [m.end for m in trips(recent, HOME, TODAY)] == [date(2025, 12, 8)]


def test_places_are_ranked_by_photos_then_by_name() -> None:
    counts = {"Sintra, Portugal": 2, "Lisbon, Portugal": 5, "Cascais, Portugal": 2, "Porto": 1}
    assert ranked_places(counts) == ("Lisbon, Portugal", "Cascais, Portugal", "Sintra, Portugal")


def test_this_day_in_earlier_years_newest_first() -> None:
    counts = [
        (date(2019, 12, 8), 4),
        (date(2023, 12, 8), 1),
        (date(2026, 12, 8), 9),  # today: not a memory
        (date(2024, 12, 7), 2),
    ]
    found = same_day_earlier(TODAY, counts)
    assert [(m.key, m.years_ago(TODAY), m.count) for m in found] == [
        ("on-this-day-2023-12-08", 3, 1),
        ("on-this-day-2019-12-08", 7, 4),
    ]


@pytest.mark.parametrize(
    "key",
    [
        "trip-2026-11-05-2026-11-01",  # ends before it starts
        "trip-2020-01-01-2026-01-01",  # longer than a year
        "on-this-day-2026-02-30",
        "on-this-day-2026-1-1",
        "trip-2026-11-01",
        "../etc/passwd",
    ],
)
def test_only_a_memorys_key_names_one(key: str) -> None:
    with pytest.raises(InvalidInput):
        parse_key(key)


def test_a_key_names_its_days() -> None:
    assert parse_key("on-this-day-2019-12-08") == (date(2019, 12, 8), date(2019, 12, 8))
    assert parse_key("trip-2026-11-02-2026-11-04") == (date(2026, 11, 2), date(2026, 11, 4))
