"""The map (#16): clusters of where photos were taken, in both worlds, checked against a count
made here from the photos themselves after every kind of change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from albumen.adapters.queue import HueyJobQueue
from albumen.app.root import Albumen
from albumen.app.services import Services
from albumen.config import Secret, Settings
from albumen.domain.maps import FINEST, grid_cell
from albumen.web import create_app
from tests.conftest import make_jpeg, upload

Headers = dict[str, str]
EXIF_IFD, GPS_IFD, DATE_ORIGINAL = 0x8769, 0x8825, 0x9003


@dataclass(frozen=True)
class Spot:
    name: str
    lat: float
    lon: float


PARIS = Spot("paris", 48.8584, 2.2945)
LOUVRE = Spot("louvre", 48.8606, 2.3376)
DELFT = Spot("delft", 52.0116, 4.3571)
TOKYO = Spot("tokyo", 35.6586, 139.7454)
SYDNEY = Spot("sydney", -33.8568, 151.2153)
FIJI_WEST = Spot("fiji-west", -17.75, 179.9)  # either side of the antimeridian
FIJI_EAST = Spot("fiji-east", -16.5, -179.9)
SPOTS = (PARIS, LOUVRE, DELFT, TOKYO, SYDNEY, FIJI_WEST, FIJI_EAST)


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees, minutes = int(value), (value - int(value)) * 60
    return float(degrees), float(int(minutes)), round((minutes - int(minutes)) * 60, 4)


def located_jpeg(spot: Spot | None, day: int, seed: int) -> bytes:
    exif: dict[int, object] = {EXIF_IFD: {DATE_ORIGINAL: f"2020:03:{day:02d} 12:00:00"}}
    if spot is not None:
        exif[GPS_IFD] = {
            1: "N" if spot.lat >= 0 else "S",
            2: _dms(spot.lat),
            3: "E" if spot.lon >= 0 else "W",
            4: _dms(spot.lon),
        }
    return make_jpeg(64, 48, seed=seed, exif=exif)


@dataclass
class Shot:
    id: str
    day: int  # its date: a later day is newer
    lat: float
    lon: float


def _library(client: TestClient, auth: Headers, queue: HueyJobQueue) -> list[Shot]:
    """Two to four photos at each spot on different days, and two without a position."""
    ids: list[tuple[str, int]] = []
    for n, spot in enumerate(SPOTS):
        for k in range(2 + n % 3):
            day = 1 + (n * 3 + k * 7) % 28
            answer = upload(
                client, auth, located_jpeg(spot, day, 10 * n + k), f"{spot.name}{k}.jpg"
            )
            ids.append((answer.json()["id"], day))
    for k in range(2):
        upload(client, auth, located_jpeg(None, 20 + k, 90 + k), f"nowhere{k}.jpg")
    queue.run_pending()
    shots = []
    for photo_id, day in ids:
        photo = client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()
        assert photo["status"] == "ready", photo
        shots.append(Shot(photo_id, day, photo["location"]["lat"], photo["location"]["lon"]))
    return shots


def expected(shots: list[Shot], level: int) -> dict[tuple[int, int], tuple[int, set[str]]]:
    """The clusters at ``level`` counted here: each cell's count and its newest photos."""
    cells: dict[tuple[int, int], list[Shot]] = {}
    for shot in shots:
        x, y = grid_cell(shot.lat, shot.lon)
        cells.setdefault((x >> (FINEST - level), y >> (FINEST - level)), []).append(shot)
    answer = {}
    for cell, members in cells.items():
        newest = max(shot.day for shot in members)
        answer[cell] = (len(members), {shot.id for shot in members if shot.day == newest})
    return answer


def found(map_answer: dict[str, Any]) -> dict[tuple[int, int], tuple[int, str]]:
    level = map_answer["level"]
    cells = {}
    for cluster in map_answer["clusters"]:
        south, west, _, _ = (float(edge) for edge in cluster["bbox"].split(","))
        size = 360.0 / (1 << level)
        cell = (round((west + 180) / size), round((south + 90) / size))
        cells[cell] = (cluster["count"], cluster["photo_id"])
    return cells


def assert_map_agrees(
    client: TestClient, auth: Headers, shots: list[Shot], params: str = ""
) -> None:
    """At every zoom, over the whole world, each cluster is one cell's photos: its count and
    its newest photo, as counted here."""
    for zoom in range(0, 19, 3):
        answer = client.get(f"/api/v1/map?zoom={zoom}{params}", headers=auth)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        want = expected(shots, body["level"])
        got = found(body)
        assert set(got) == set(want), zoom
        for cell, (count, photo_id) in got.items():
            assert count == want[cell][0], (zoom, cell)
            assert photo_id in want[cell][1], (zoom, cell)
        assert body["total"] == len(shots)


@pytest.fixture
def library(client: TestClient, auth: Headers, queue: HueyJobQueue) -> list[Shot]:
    return _library(client, auth, queue)


def test_the_map_counts_every_located_photo_once_at_every_zoom(
    client: TestClient, auth: Headers, library: list[Shot]
) -> None:
    assert_map_agrees(client, auth, library)
    world = client.get("/api/v1/map?zoom=0", headers=auth).json()
    assert world["total"] == len(library)  # the two without a position are on no map
    # a cluster's middle is its photos' mean position
    city = client.get("/api/v1/map?zoom=16&bbox=48.85,2.28,48.87,2.35", headers=auth).json()
    assert sorted(c["count"] for c in city["clusters"]) == [2, 3]
    for cluster in city["clusters"]:
        south, west, north, east = (float(edge) for edge in cluster["bbox"].split(","))
        assert south <= cluster["lat"] <= north
        assert west <= cluster["lon"] <= east


def test_a_clusters_bbox_finds_exactly_its_photos(
    client: TestClient, auth: Headers, library: list[Shot]
) -> None:
    for cluster in client.get("/api/v1/map?zoom=10", headers=auth).json()["clusters"]:
        bbox = cluster["bbox"]
        listed = client.get(
            f"/api/v1/search?bbox={bbox}&archived=false&limit=100", headers=auth
        ).json()
        assert len(listed["items"]) == cluster["count"], bbox
        assert listed["items"][0]["id"] == cluster["photo_id"]  # the newest, shown on it


def test_trash_archive_restore_and_purge_move_the_counts_and_the_cover(
    client: TestClient, auth: Headers, library: list[Shot]
) -> None:
    shown = list(library)

    def gone(shot: Shot, change: Callable[[], Any]) -> None:
        assert change().status_code in (200, 204)
        shown.remove(shot)
        assert_map_agrees(client, auth, shown)

    def back(shot: Shot, change: Callable[[], Any]) -> None:
        assert change().status_code in (200, 204)
        shown.append(shot)
        assert_map_agrees(client, auth, shown)

    sydney = [s for s in library if s.lat < -30]
    newest = max(sydney, key=lambda s: s.day)  # the cover of Sydney's cell at every zoom
    gone(newest, lambda: client.delete(f"/api/v1/photos/{newest.id}", headers=auth))
    back(newest, lambda: client.post(f"/api/v1/photos/{newest.id}/restore", headers=auth))
    url = f"/api/v1/photos/{newest.id}"
    gone(newest, lambda: client.patch(url, headers=auth, json={"archived": True}))
    back(newest, lambda: client.patch(url, headers=auth, json={"archived": False}))
    for shot in sydney:  # the whole cell empties: no cluster is left there
        gone(shot, partial(client.delete, f"/api/v1/photos/{shot.id}", headers=auth))
    ids = [shot.id for shot in sydney]
    emptied = client.post("/api/v1/trash/empty", headers=auth, json={"ids": ids})
    assert sorted(emptied.json()["ids"]) == sorted(ids), emptied.text
    assert_map_agrees(client, auth, shown)


def test_a_box_across_the_antimeridian_holds_both_sides(
    client: TestClient, auth: Headers, library: list[Shot]
) -> None:
    fiji = {s.id for s in library if abs(s.lon) > 179}
    answer = client.get("/api/v1/map?zoom=12&bbox=-20,179.5,-15,-179.5", headers=auth).json()
    assert answer["total"] == len(fiji)
    assert len(answer["clusters"]) == 2
    east_only = client.get("/api/v1/map?zoom=12&bbox=-20,-180,-15,-170", headers=auth).json()
    assert east_only["total"] == len([s for s in library if s.lon < -179])


def test_an_answer_is_bounded_whatever_is_asked(
    client: TestClient, auth: Headers, library: list[Shot]
) -> None:
    deep = client.get("/api/v1/map?zoom=22", headers=auth).json()
    assert 360.0 / (1 << deep["level"]) * 32 >= 180  # at most 1024 cells over the world
    assert deep["total"] == len(library)
    for bad in ("zoom=23", "zoom=-1", "bbox=1,2,3", "bbox=10,0,-10,5", "bbox=0,0,91,1"):
        answer = client.get(f"/api/v1/map?{bad}", headers=auth)
        assert answer.status_code in (400, 422), bad
        error = answer.json()["error"]
        assert error["code"] in ("invalid_bbox", "validation_error"), bad
        assert error["message"], bad


def test_an_albums_map_holds_its_photos_and_its_sub_albums_and_no_one_elses(
    client: TestClient, auth: Headers, services: Services, library: list[Shot]
) -> None:
    trip = client.post("/api/v1/albums", headers=auth, json={"name": "Europe"}).json()
    day = client.post(
        "/api/v1/albums", headers=auth, json={"name": "Delft", "parent_id": trip["id"]}
    ).json()
    europe = [s for s in library if 40 < s.lat < 60]
    delft = [s for s in europe if s.lat > 50]
    paris = [s for s in europe if s.lat < 50]
    client.put(
        f"/api/v1/albums/{trip['id']}/photos", headers=auth, json={"ids": [s.id for s in paris]}
    )
    client.put(
        f"/api/v1/albums/{day['id']}/photos", headers=auth, json={"ids": [s.id for s in delft]}
    )
    archived = paris[0]  # an album keeps its archived photos: so does its map
    client.patch(f"/api/v1/photos/{archived.id}", headers=auth, json={"archived": True})
    assert_map_agrees(client, auth, europe, f"&album={trip['id']}")
    assert_map_agrees(client, auth, delft, f"&album={day['id']}")
    inside = client.get(
        f"/api/v1/albums/{trip['id']}/photos?include_sub=true&bbox=51,4,53,5", headers=auth
    ).json()
    assert {p["id"] for p in inside["items"]} == {s.id for s in delft}

    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    refused = client.get(f"/api/v1/map?album={trip['id']}", headers=bob)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "album_not_found"
    assert client.get("/api/v1/map", headers=bob).json() == {"level": 4, "total": 0, "clusters": []}
    shared = client.post(
        f"/api/v1/albums/{trip['id']}/members", headers=auth, json={"user": "bob", "role": "viewer"}
    )
    assert shared.status_code in (200, 201), shared.text
    assert_map_agrees(client, bob, europe, f"&album={trip['id']}")


def test_online_tiles_are_named_to_signed_in_users_and_allowed_by_the_pages_policy(
    client: TestClient, auth: Headers, settings: Settings, albumen: Albumen
) -> None:
    offline = client.get("/api/v1/map/tiles", headers=auth).json()
    assert offline == {"url": None, "attribution": ""}
    page = client.get("/map", headers={"Accept": "text/html"})
    assert "img-src 'self' data: blob:;" in page.headers["content-security-policy"]

    url = "https://{s}.tile.example.org/{z}/{x}/{y}.png?key=abc"
    online = settings.model_copy(
        update={"map_tiles_url": Secret(url), "map_tiles_attribution": "© Example"}
    )
    with TestClient(create_app(online, albumen)) as other:
        assert other.get("/api/v1/map/tiles").status_code == 401
        named = other.get("/api/v1/map/tiles", headers=auth).json()
        assert named == {"url": url, "attribution": "© Example"}
        policy = other.get("/map", headers={"Accept": "text/html"}).headers
        assert (
            "img-src 'self' data: blob: https://*.tile.example.org;"
            in policy["content-security-policy"]
        )
    assert "abc" not in repr(online)  # the key stays out of logs and `config show`


def test_an_album_link_shows_a_map_only_where_its_owner_says_so(
    client: TestClient, auth: Headers, library: list[Shot]
) -> None:
    album = client.post("/api/v1/albums", headers=auth, json={"name": "Far away"}).json()
    inside = client.post(
        "/api/v1/albums", headers=auth, json={"name": "Fiji", "parent_id": album["id"]}
    ).json()
    far = [s for s in library if s.lat < 0]  # Sydney and Fiji
    fiji = [s for s in far if abs(s.lon) > 179]
    sydney = [s for s in far if s not in fiji]
    client.put(
        f"/api/v1/albums/{album['id']}/photos", headers=auth, json={"ids": [s.id for s in sydney]}
    )
    client.put(
        f"/api/v1/albums/{inside['id']}/photos", headers=auth, json={"ids": [s.id for s in fiji]}
    )

    def link(**options: object) -> str:
        made = client.post(
            "/api/v1/shares", headers=auth, json={"album_id": album["id"], **options}
        )
        assert made.status_code == 201, made.text
        assert made.json()["show_map"] is bool(options.get("show_map"))
        return str(made.json()["token"])

    closed = link()
    assert client.get(f"/s/{closed}").json()["show_map"] is False
    for refused in (
        client.get(f"/s/{closed}/map"),
        client.get(f"/s/{closed}?bbox=-90,-180,90,180"),
    ):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "map_not_shared"
    photo_link = client.post(
        "/api/v1/shares", headers=auth, json={"photo_id": sydney[0].id, "show_map": True}
    )
    assert photo_link.status_code == 400

    token = link(show_map=True)
    assert client.get(f"/s/{token}").json()["show_map"] is True
    # a visitor's map is the page's: the album's own photos, or an album's inside it
    for params, shots in (("", sydney), (f"&album={inside['id']}", fiji)):
        for zoom in (0, 6, 14):
            body = client.get(f"/s/{token}/map?zoom={zoom}{params}").json()
            want = expected(shots, body["level"])
            got = found(body)
            assert {cell: count for cell, (count, _) in got.items()} == {
                cell: count for cell, (count, _) in want.items()
            }
            for cell, (_, photo_id) in got.items():
                assert photo_id in want[cell][1]
        cluster = client.get(f"/s/{token}/map?zoom=8{params}").json()["clusters"][0]
        listed = client.get(f"/s/{token}?bbox={cluster['bbox']}{params}").json()["items"]
        assert len(listed) == cluster["count"]
        assert "location" not in listed[0]  # the visitor sees the map, not the coordinates
    outside = client.get(f"/s/{token}/map?album={library[0].id}")  # not an album of the link
    assert outside.status_code == 404
    links = client.get("/api/v1/shares", headers=auth).json()
    revoked = next(item for item in links if item["show_map"])
    client.delete(f"/api/v1/shares/{revoked['id']}", headers=auth)
    assert client.get(f"/s/{token}/map").status_code == 404
