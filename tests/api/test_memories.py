"""Memories (#16): this day in earlier years and recent trips, found from a real library in both
worlds; hiding one, and no one else's."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from albumen.adapters.queue import HueyJobQueue
from albumen.app.services import Services
from tests.api.test_map import EXIF_IFD, GPS_IFD, Spot, _dms
from tests.conftest import make_jpeg, upload

Headers = dict[str, str]
TODAY = "2026-12-08"
DELFT = Spot("delft", 52.0116, 4.3571)  # home: most of the photos
LISBON = Spot("lisbon", 38.7223, -9.1393)
PARIS = Spot("paris", 48.8584, 2.2945)
ROME = Spot("rome", 41.9028, 12.4964)
TOKYO = Spot("tokyo", 35.6586, 139.7454)
TRIP = "trip-2026-11-20-2026-11-22"
TRIP_SHOTS = (
    "2026:11:20 09:00:00",
    "2026:11:21 12:00:00",
    "2026:11:21 13:00:00",
    "2026:11:22 08:00:00",
    "2026:11:22 23:30:00",
)
# (where, local date and time): the library the tests below read
SHOTS = [
    *[(DELFT, f"2026:{m:02d}:{d:02d} 10:00:00") for m, d in ((9, 1), (9, 2), (10, 3), (10, 4))],
    *[(DELFT, f"2026:{m:02d}:{d:02d} 18:00:00") for m, d in ((11, 10), (11, 19), (11, 23))],
    (LISBON, "2026:11:20 09:00:00"),  # three days away: a trip
    (LISBON, "2026:11:21 12:00:00"),
    (None, "2026:11:21 13:00:00"),  # taken on the trip, without a position: part of it
    (LISBON, "2026:11:22 08:00:00"),
    (LISBON, "2026:11:22 23:30:00"),  # late at night, local time: still the 22nd
    (PARIS, "2026:11:05 12:00:00"),  # one day away: not a trip
    (ROME, "2024:06:01 12:00:00"),  # a trip more than a year ago: not recent
    (ROME, "2024:06:02 12:00:00"),
    (TOKYO, "2026:12:07 12:00:00"),  # still going on
    (TOKYO, "2026:12:08 09:00:00"),
    (None, "2019:12:08 10:00:00"),  # this day in earlier years
    (DELFT, "2019:12:08 11:00:00"),
    (None, "2023:12:08 23:59:00"),
    (None, "2025:12:07 12:00:00"),  # the day before, a year ago: not this day
]


def dated(spot: Spot | None, when: str, seed: int, size: tuple[int, int] = (48, 32)) -> bytes:
    exif: dict[int, object] = {EXIF_IFD: {0x9003: when, 0x9011: "+01:00"}}
    if spot is not None:
        exif[GPS_IFD] = {
            1: "N" if spot.lat >= 0 else "S",
            2: _dms(spot.lat),
            3: "E" if spot.lon >= 0 else "W",
            4: _dms(spot.lon),
        }
    return make_jpeg(*size, seed=seed, exif=exif)


@pytest.fixture
def library(client: TestClient, auth: Headers, queue: HueyJobQueue) -> dict[str, str]:
    """Each shot's id, by its date and time."""
    ids = {}
    for n, (spot, when) in enumerate(SHOTS):
        ids[when] = upload(client, auth, dated(spot, when, n), f"{n}.jpg").json()["id"]
    queue.run_pending()
    return ids


def _memories(client: TestClient, auth: Headers) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/memories?today={TODAY}", headers=auth)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_this_day_in_earlier_years_and_recent_trips(
    client: TestClient, auth: Headers, library: dict[str, str]
) -> None:
    found = _memories(client, auth)
    assert [(m["key"], m["kind"], m["years_ago"], m["count"]) for m in found] == [
        ("on-this-day-2023-12-08", "on_this_day", 3, 1),
        ("on-this-day-2019-12-08", "on_this_day", 7, 2),
        (TRIP, "trip", 0, 5),  # the photo without a position is one of its photos
    ]
    trip = found[2]
    assert (trip["start"], trip["end"]) == ("2026-11-20", "2026-11-22")
    assert "Portugal" in str(trip["places"][0])
    assert len(trip["cover_ids"]) == 4
    page = client.get(f"/api/v1/memories/{TRIP}/photos?limit=3", headers=auth).json()
    more = client.get(
        f"/api/v1/memories/{TRIP}/photos?limit=3&cursor={page['next_cursor']}", headers=auth
    ).json()
    shown = [p["id"] for p in page["items"] + more["items"]]
    assert sorted(shown) == sorted(library[when] for when in TRIP_SHOTS)
    assert shown[0] == library["2026:11:22 23:30:00"]  # newest first
    assert more["next_cursor"] is None


def test_a_favourite_is_shown_first_and_a_trashed_photo_leaves(
    client: TestClient, auth: Headers, library: dict[str, str]
) -> None:
    first = library["2026:11:20 09:00:00"]
    client.patch(f"/api/v1/photos/{first}", headers=auth, json={"favorite": True})
    trip = next(m for m in _memories(client, auth) if m["key"] == TRIP)
    assert trip["cover_ids"][0] == first
    gone = library["2026:11:22 23:30:00"]  # the newest: a cover until now
    client.delete(f"/api/v1/photos/{gone}", headers=auth)
    trip = next(m for m in _memories(client, auth) if m["key"] == TRIP)
    assert trip["count"] == 4
    assert gone not in trip["cover_ids"]


def test_a_hidden_memory_stays_hidden_until_shown_again(
    client: TestClient, auth: Headers, library: dict[str, str]
) -> None:
    assert client.put(f"/api/v1/memories/{TRIP}/hidden", headers=auth).status_code == 204
    assert client.put(f"/api/v1/memories/{TRIP}/hidden", headers=auth).status_code == 204
    assert TRIP not in [m["key"] for m in _memories(client, auth)]
    assert client.delete(f"/api/v1/memories/{TRIP}/hidden", headers=auth).status_code == 204
    assert TRIP in [m["key"] for m in _memories(client, auth)]
    for bad in ("trip-2026-11-22-2026-11-20", "on-this-day-2026-13-01", "nothing"):
        refused = client.put(f"/api/v1/memories/{bad}/hidden", headers=auth)
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["code"] == "invalid_memory"


def test_another_user_has_none_of_them(
    client: TestClient, auth: Headers, services: Services, library: dict[str, str]
) -> None:
    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    assert _memories(client, bob) == []
    for answer in (
        client.put(f"/api/v1/memories/{TRIP}/hidden", headers=bob),
        client.delete(f"/api/v1/memories/{TRIP}/hidden", headers=bob),
        client.get(f"/api/v1/memories/{TRIP}/photos", headers=bob),
    ):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "memory_not_found"
    assert TRIP in [m["key"] for m in _memories(client, auth)]  # Alice's is untouched


def test_no_memories_in_a_new_library(client: TestClient, auth: Headers) -> None:
    assert _memories(client, auth) == []
    assert client.get("/api/v1/memories", headers=auth).json() == {"items": []}
