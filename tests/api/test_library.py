"""Albums, sharing, trash, archive, search and timeline buckets, through the HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, update

from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.tables import share_links
from albumen.adapters.queue import HueyJobQueue
from albumen.app.services import Services
from albumen.domain.metadata import Camera, Location, PhotoMetadata, TakenAt
from albumen.domain.places import Place
from tests.conftest import make_jpeg, upload

Headers = dict[str, str]
PARIS = Place("Paris", "Île-de-France", "France", "FR")
TOKYO = Place("Tokyo", "Tokyo", "Japan", "JP")


@pytest.fixture
def bob(services: Services) -> Headers:
    return {"Authorization": f"Bearer {services.users.add('bob').secret}"}


def add_photos(client: TestClient, auth: Headers, n: int, seed: int = 0) -> list[str]:
    return [
        upload(client, auth, make_jpeg(32, 24, seed=seed + i), f"IMG_{seed + i}.jpg").json()["id"]
        for i in range(n)
    ]


def describe(
    engine: Engine,
    photo_id: str,
    when: datetime,
    place: Place | None = None,
    at: tuple[float, float] | None = None,
    model: str | None = None,
) -> None:
    """Give a photo what its processing would have found (a date, a position, a camera)."""
    meta = PhotoMetadata(
        width=32,
        height=24,
        taken_at=TakenAt(when, 0, "test"),
        location=Location(*at) if at else None,
        camera=Camera("Apple", model) if model else Camera(),
    )
    SqlPhotoRepo(engine).save_metadata(photo_id, meta, when, place)


def test_nested_albums_count_move_and_refuse_cycles(client: TestClient, auth: Headers) -> None:
    ids = add_photos(client, auth, 4)
    trip = client.post("/api/v1/albums", headers=auth, json={"name": "Summer trip"}).json()
    day = client.post(
        "/api/v1/albums", headers=auth, json={"name": "Day 1", "parent_id": trip["id"]}
    ).json()
    added = client.put(f"/api/v1/albums/{trip['id']}/photos", headers=auth, json={"ids": ids[:2]})
    assert added.json() == {"ids": ids[:2]}
    again = client.put(f"/api/v1/albums/{trip['id']}/photos", headers=auth, json={"ids": ids[:2]})
    assert again.json() == {"ids": []}  # already there
    client.put(f"/api/v1/albums/{day['id']}/photos", headers=auth, json={"ids": ids[1:3]})
    listed = client.get("/api/v1/albums", headers=auth, params={"include_sub": True}).json()
    counts = {a["name"]: (a["photo_count"], a["total_count"]) for a in listed}
    assert counts == {"Summer trip": (2, 3), "Day 1": (2, 2)}  # distinct photos of the subtree
    detail = client.get(f"/api/v1/albums/{day['id']}", headers=auth).json()
    assert [a["name"] for a in detail["path"]] == ["Summer trip"]
    cycle = client.patch(
        f"/api/v1/albums/{trip['id']}", headers=auth, json={"parent_id": day["id"]}
    )
    assert cycle.status_code == 409
    assert cycle.json()["error"]["code"] == "album_cycle"
    top = client.patch(f"/api/v1/albums/{day['id']}", headers=auth, json={"parent_id": None})
    assert top.json()["parent_id"] is None
    albums_of = client.get(f"/api/v1/photos/{ids[1]}/albums", headers=auth).json()
    assert sorted(a["name"] for a in albums_of) == ["Day 1", "Summer trip"]


def test_album_photos_in_manual_order_and_sub_albums(client: TestClient, auth: Headers) -> None:
    ids = add_photos(client, auth, 3)
    album = client.post("/api/v1/albums", headers=auth, json={"name": "A", "order": "manual"})
    album_id = album.json()["id"]
    sub = client.post("/api/v1/albums", headers=auth, json={"name": "B", "parent_id": album_id})
    client.put(f"/api/v1/albums/{album_id}/photos", headers=auth, json={"ids": ids[:2]})
    client.put(f"/api/v1/albums/{sub.json()['id']}/photos", headers=auth, json={"ids": ids[2:]})
    moved = client.post(
        f"/api/v1/albums/{album_id}/photos/move",
        headers=auth,
        json={"ids": [ids[1]], "before": ids[0]},
    )
    assert moved.status_code == 204
    page = client.get(f"/api/v1/albums/{album_id}/photos", headers=auth, params={"limit": 1})
    first = page.json()
    rest = client.get(
        f"/api/v1/albums/{album_id}/photos",
        headers=auth,
        params={"limit": 1, "cursor": first["next_cursor"]},
    ).json()
    assert [first["items"][0]["id"], rest["items"][0]["id"]] == [ids[1], ids[0]]
    subtree = client.get(
        f"/api/v1/albums/{album_id}/photos", headers=auth, params={"include_sub": True}
    ).json()
    assert {p["id"] for p in subtree["items"]} == set(ids)


def test_deleting_an_album_keeps_its_photos(client: TestClient, auth: Headers) -> None:
    ids = add_photos(client, auth, 1)
    album = client.post("/api/v1/albums", headers=auth, json={"name": "A"}).json()
    client.post("/api/v1/albums", headers=auth, json={"name": "B", "parent_id": album["id"]})
    client.put(f"/api/v1/albums/{album['id']}/photos", headers=auth, json={"ids": ids})
    refused = client.delete(f"/api/v1/albums/{album['id']}", headers=auth)
    assert refused.json()["error"]["code"] == "album_not_empty"
    assert (
        client.delete(
            f"/api/v1/albums/{album['id']}", headers=auth, params={"recursive": True}
        ).status_code
        == 204
    )
    assert client.get("/api/v1/albums", headers=auth).json() == []
    assert client.get(f"/api/v1/photos/{ids[0]}", headers=auth).status_code == 200


def test_albums_are_private_and_take_only_your_photos(
    client: TestClient, auth: Headers, bob: Headers
) -> None:
    mine = add_photos(client, auth, 1)
    theirs = add_photos(client, bob, 1, seed=50)
    album = client.post("/api/v1/albums", headers=auth, json={"name": "A"}).json()
    foreign = client.put(f"/api/v1/albums/{album['id']}/photos", headers=auth, json={"ids": theirs})
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "photo_not_found"
    assert client.get(f"/api/v1/albums/{album['id']}", headers=bob).status_code == 404
    assert (
        client.put(
            f"/api/v1/albums/{album['id']}/photos", headers=bob, json={"ids": theirs}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/albums", headers=auth, json={"name": "x", "parent_id": "nope"}
        ).status_code
        == 404
    )
    assert mine


def test_sharing_an_album_with_a_user(client: TestClient, auth: Headers, bob: Headers) -> None:
    shared, private = add_photos(client, auth, 2)
    album = client.post("/api/v1/albums", headers=auth, json={"name": "Family"}).json()
    client.put(f"/api/v1/albums/{album['id']}/photos", headers=auth, json={"ids": [shared]})
    member = client.post(
        f"/api/v1/albums/{album['id']}/members", headers=auth, json={"user": "bob"}
    ).json()
    assert member["role"] == "viewer"
    assert [a["role"] for a in client.get("/api/v1/albums", headers=bob).json()] == ["viewer"]
    assert client.get(f"/api/v1/photos/{shared}", headers=bob).status_code == 200
    thumb = client.get(f"/api/v1/photos/{shared}/thumbnail", headers=bob)
    assert thumb.status_code == 200
    assert client.get(f"/api/v1/photos/{private}", headers=bob).status_code == 404
    bobs = add_photos(client, bob, 1, seed=70)
    refused = client.put(f"/api/v1/albums/{album['id']}/photos", headers=bob, json={"ids": bobs})
    assert refused.status_code == 403  # a viewer sees the album but may not add to it
    client.post(
        f"/api/v1/albums/{album['id']}/members",
        headers=auth,
        json={"user": "bob", "role": "contributor"},
    )
    assert client.put(
        f"/api/v1/albums/{album['id']}/photos", headers=bob, json={"ids": bobs}
    ).json() == {"ids": bobs}
    client.delete(f"/api/v1/albums/{album['id']}/members/{member['user_id']}", headers=auth)
    assert client.get(f"/api/v1/photos/{shared}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/photos/{shared}/thumbnail", headers=bob).status_code == 404


def test_share_links_open_without_an_account_until_revoked(
    client: TestClient, auth: Headers, services: Services, queue: HueyJobQueue
) -> None:
    inside, outside = add_photos(client, auth, 2)
    queue.run_pending()
    album = client.post("/api/v1/albums", headers=auth, json={"name": "Trip"}).json()
    client.put(f"/api/v1/albums/{album['id']}/photos", headers=auth, json={"ids": [inside]})
    day = client.post(
        "/api/v1/albums", headers=auth, json={"name": "Day", "parent_id": album["id"]}
    )
    client.put(f"/api/v1/albums/{day.json()['id']}/photos", headers=auth, json={"ids": [outside]})
    link = client.post("/api/v1/shares", headers=auth, json={"album_id": album["id"]}).json()
    token = link["token"]
    assert len(token) >= 40
    page = client.get(f"/s/{token}").json()
    assert (page["title"], [p["id"] for p in page["items"]]) == ("Trip", [inside])
    assert [a["name"] for a in page["albums"]] == ["Day"]
    inner = client.get(f"/s/{token}", params={"album": day.json()["id"]}).json()
    assert [p["id"] for p in inner["items"]] == [outside]
    assert "sha256" not in page["items"][0]
    assert client.get(f"/s/{token}/photos/{inside}/thumbnail").status_code == 200
    assert client.get(f"/s/{token}/photos/{outside}/thumbnail").status_code == 200  # sub-album
    original = client.get(f"/s/{token}/photos/{inside}/original")
    assert original.status_code == 403
    assert original.json()["error"]["code"] == "download_not_allowed"
    assert [s["id"] for s in client.get("/api/v1/shares", headers=auth).json()] == [link["id"]]
    removed = client.request(
        "DELETE", f"/api/v1/albums/{album['id']}/photos", headers=auth, json={"ids": [inside]}
    )
    assert removed.json() == {"ids": [inside]}
    assert client.get(f"/s/{token}/photos/{inside}/thumbnail").status_code == 404
    client.delete(f"/api/v1/shares/{link['id']}", headers=auth)
    assert client.get(f"/s/{token}").status_code == 404
    assert client.get(f"/s/{token}/photos/{inside}/thumbnail").status_code == 404


def test_a_share_page_hands_out_signed_thumbnail_urls_an_edge_may_cache(
    client: TestClient, auth: Headers, services: Services, queue: HueyJobQueue
) -> None:
    (photo_id,) = add_photos(client, auth, 1)
    queue.run_pending()
    link = client.post("/api/v1/shares", headers=auth, json={"photo_id": photo_id}).json()
    (item,) = client.get(f"/s/{link['token']}").json()["items"]
    own = client.get(
        f"/api/v1/photos/{photo_id}/thumbnail", headers=auth | {"Accept": "image/webp"}
    )
    edge = client.get(item["thumbnail_url"])  # no account, no share token: the URL is the key
    assert edge.status_code == 200
    assert edge.content == own.content
    assert edge.headers["content-type"] == "image/webp"
    caching = edge.headers["cache-control"]
    assert caching.startswith("public, max-age=")
    assert caching.endswith(", immutable")
    assert 0 < int(caching.split("=")[1].split(",")[0]) <= 300  # an edge keeps it 5 min
    assert client.get(item["preview_url"]).status_code == 200

    forged = item["thumbnail_url"].replace("sig=", "sig=0")[:-1]
    assert client.get(forged).status_code == 404
    name = item["thumbnail_url"].split("?")[0].removeprefix("/t/")
    past = 1_000_000_000
    signed = services.shares.sign_edge(name, link["id"], past)
    assert client.get(f"/t/{name}?link={link['id']}&exp={past}&sig={signed}").status_code == 410
    # another link's signature is not this one's
    other = client.post("/api/v1/shares", headers=auth, json={"photo_id": photo_id}).json()
    swapped = item["thumbnail_url"].replace(link["id"], other["id"])
    assert client.get(swapped).status_code == 404


def test_revoking_a_share_stops_its_edge_urls_at_once(
    client: TestClient, auth: Headers, queue: HueyJobQueue
) -> None:
    """docs/api.md says revoking cuts access at once; the signed /t/ URLs worked for up to
    two hours more (#21, item 6). Now the origin checks the link on every request, and an
    edge may keep an answer five minutes at most."""
    (photo_id,) = add_photos(client, auth, 1)
    queue.run_pending()
    link = client.post("/api/v1/shares", headers=auth, json={"photo_id": photo_id}).json()
    (item,) = client.get(f"/s/{link['token']}").json()["items"]
    assert client.get(item["thumbnail_url"]).status_code == 200
    assert client.delete(f"/api/v1/shares/{link['id']}", headers=auth).status_code == 204

    for url in (item["thumbnail_url"], item["preview_url"]):
        revoked = client.get(url)
        assert revoked.status_code == 404
        assert revoked.json()["error"]["code"] == "share_not_found"


def test_a_share_link_expires_and_can_allow_downloads(
    client: TestClient, auth: Headers, services: Services, engine: Engine
) -> None:
    (photo,) = add_photos(client, auth, 1)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    link = client.post(
        "/api/v1/shares",
        headers=auth,
        json={"photo_id": photo, "expires_at": soon, "allow_download": True},
    ).json()
    assert client.get(f"/s/{link['token']}/photos/{photo}/original").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(share_links).values(expires_at=datetime(2000, 1, 1)))
    gone = client.get(f"/s/{link['token']}")
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "share_expired"
    past = client.post(
        "/api/v1/shares", headers=auth, json={"photo_id": photo, "expires_at": "2001-01-01T00:00Z"}
    )
    assert past.status_code == 400


def test_a_share_password_is_checked_and_rate_limited(client: TestClient, auth: Headers) -> None:
    (photo,) = add_photos(client, auth, 1)
    link = client.post(
        "/api/v1/shares", headers=auth, json={"photo_id": photo, "password": "sesame"}
    ).json()
    token = link["token"]
    assert client.get(f"/s/{token}").json()["error"]["code"] == "password_required"
    wrong = client.post(f"/s/{token}/unlock", json={"password": "nope"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "wrong_password")
    unlock = client.post(f"/s/{token}/unlock", json={"password": "sesame"}).json()["unlock"]
    opened = client.get(f"/s/{token}", headers={"X-Share-Unlock": unlock})
    assert opened.status_code == 200
    tail = "00" if unlock[-2:] != "00" else "11"  # always a different signature
    forged = client.get(f"/s/{token}", headers={"X-Share-Unlock": unlock[:-2] + tail})
    assert forged.status_code == 401
    statuses = [
        client.post(f"/s/{token}/unlock", json={"password": "x"}).status_code for _ in range(5)
    ]
    assert statuses[-1] == 429


def test_trash_restore_and_empty_by_confirmed_ids(
    client: TestClient, auth: Headers, bob: Headers, services: Services, queue: HueyJobQueue
) -> None:
    data = make_jpeg(32, 24, seed=9)
    mine = upload(client, auth, data).json()
    theirs = upload(client, bob, data).json()  # the same bytes: one blob, two photos
    queue.run_pending()
    later = add_photos(client, auth, 1, seed=10)
    assert client.post("/api/v1/photos/trash", headers=auth, json={"ids": [mine["id"]]}).json() == {
        "ids": [mine["id"]]
    }
    assert client.get("/api/v1/photos", headers=auth).json()["items"][0]["id"] == later[0]
    trashed = client.get("/api/v1/trash", headers=auth).json()["items"]
    assert [p["id"] for p in trashed] == [mine["id"]]
    client.post("/api/v1/photos/trash", headers=auth, json={"ids": later})  # after the user looked
    emptied = client.post("/api/v1/trash/empty", headers=auth, json={"ids": [mine["id"]]})
    assert emptied.json() == {"ids": [mine["id"]]}
    assert [p["id"] for p in client.get("/api/v1/trash", headers=auth).json()["items"]] == later
    assert client.get(f"/api/v1/photos/{mine['id']}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/photos/{theirs['id']}/original", headers=bob).content == data
    assert client.post("/api/v1/photos/restore", headers=auth, json={"ids": later}).json() == {
        "ids": later
    }


def test_trash_expires_after_its_retention(
    client: TestClient, auth: Headers, services: Services, queue: HueyJobQueue
) -> None:
    (photo,) = add_photos(client, auth, 1)
    queue.run_pending()
    client.delete(f"/api/v1/photos/{photo}", headers=auth)
    assert services.trash.expire() == 0
    services.trash.retention = timedelta(seconds=-1)
    assert services.trash.expire() == 1
    assert client.get("/api/v1/trash", headers=auth).json()["items"] == []


def test_archived_photos_leave_the_timeline_but_stay_searchable(
    client: TestClient, auth: Headers
) -> None:
    ids = add_photos(client, auth, 2)
    client.patch("/api/v1/photos", headers=auth, json={"ids": ids[:1], "archived": True})
    timeline = client.get("/api/v1/photos", headers=auth).json()["items"]
    assert [p["id"] for p in timeline] == ids[1:]
    found = client.get("/api/v1/search", headers=auth, params={"q": "IMG_0 is:archived"}).json()
    assert [p["id"] for p in found["items"]] == ids[:1]


def test_search_by_text_tags_typos_and_filters(
    client: TestClient, auth: Headers, bob: Headers, services: Services, engine: Engine
) -> None:
    beach, dog, tokyo = add_photos(client, auth, 3)
    describe(engine, beach, datetime(2019, 7, 1), PARIS, (48.85, 2.35), "iPhone 12")
    describe(engine, dog, datetime(2020, 3, 1), PARIS, (48.86, 2.34), "Pixel 7")
    describe(engine, tokyo, datetime(2021, 5, 5), TOKYO, (35.68, 139.69), "iPhone 12")
    client.patch(f"/api/v1/photos/{beach}", headers=auth, json={"tags": ["beach", "sunset"]})
    client.patch(f"/api/v1/photos/{dog}", headers=auth, json={"tags": ["dog"], "favorite": True})
    add_photos(client, bob, 1, seed=90)  # another user's photo never shows

    def ids(**params: Any) -> list[str]:
        found = client.get("/api/v1/search", headers=auth, params=params)
        assert found.status_code == 200, found.json()
        return [p["id"] for p in found.json()["items"]]

    assert ids(q="beach") == [beach]
    assert ids(q="bech") == [beach]  # one typo
    assert ids(q="paris") == [dog, beach]  # newest first
    assert ids(q="ile-de-france") == [dog, beach]  # accents folded
    assert ids(q='camera:"iphone 12"') == [tokyo, beach]
    assert ids(q="after:2020 before:2021") == [dog]
    assert ids(q="near:48.8566,2.3522,5km") == [dog, beach]
    assert ids(q="near:35.6,139.7,25km") == [tokyo]
    assert ids(bbox="35,139,36,140") == [tokyo]
    assert ids(q="is:favorite") == [dog]
    assert ids(q="tag:sunset") == [beach]
    assert ids(q="paris -dog") == [beach]
    assert ids(q="has:location type:jpeg", tag="dog") == [dog]
    assert ids(q="paris is:favorite") == [dog]  # words and flags (PostgreSQL: in its index)
    client.patch(f"/api/v1/photos/{dog}", headers=auth, json={"favorite": False})
    assert ids(q="paris is:favorite") == []
    client.patch(f"/api/v1/photos/{dog}", headers=auth, json={"favorite": True})
    assert ids(q="paris", order="oldest") == [beach, dog]
    client.post("/api/v1/photos/trash", headers=auth, json={"ids": [beach]})
    assert ids(q="paris") == [dog]  # the trash is never found (PostgreSQL: in its index)
    assert ids(q="paris near:48.8566,2.3522,5km") == [dog]
    client.post("/api/v1/photos/restore", headers=auth, json={"ids": [beach]})
    assert ids(q="paris") == [dog, beach]
    album = client.post("/api/v1/albums", headers=auth, json={"name": "Summer trip"}).json()
    sub = client.post(
        "/api/v1/albums", headers=auth, json={"name": "Day 1", "parent_id": album["id"]}
    ).json()
    client.put(f"/api/v1/albums/{sub['id']}/photos", headers=auth, json={"ids": [tokyo]})
    assert ids(q='in:"Summer trip"') == [tokyo]  # sub-albums count
    assert ids(q="day") == [tokyo]  # album names are text
    first = client.get("/api/v1/search", headers=auth, params={"q": "paris", "limit": 1}).json()
    assert (first["total"], first["total_is_exact"]) == (2, True)
    rest = ids(q="paris", limit=1, cursor=first["next_cursor"])
    assert rest == [beach]
    ranked = client.get("/api/v1/search", headers=auth, params={"q": "beach", "order": "relevance"})
    assert [p["id"] for p in ranked.json()["items"]] == [beach]
    params: dict[str, str | int] = {"q": "paris", "order": "relevance", "limit": 1}  # all counted
    first = client.get("/api/v1/search", headers=auth, params=params).json()
    assert (len(first["items"]), first["total"], first["total_is_exact"]) == (1, 2, True)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": "colour:red"}, "invalid_query"),
        ({"q": 'camera:"iphone'}, "invalid_query"),
        ({"q": "near:91,0"}, "invalid_query"),
        ({"q": "near:48,2,-5km"}, "invalid_query"),
        ({"near": "48,2,-5km"}, "invalid_filter"),
        ({"near": "91,0,5"}, "invalid_filter"),
        ({"bbox": "10,0,5,1"}, "invalid_filter"),
        ({"after": "2019-13"}, "invalid_filter"),
        ({"limit": 100000}, "validation_error"),
        ({"q": "x", "cursor": "!!"}, "bad_cursor"),
        ({"q": "in:nowhere"}, "unknown_album"),
    ],
)
def test_bad_searches_are_clear_4xx(
    client: TestClient, auth: Headers, params: dict[str, Any], code: str
) -> None:
    found = client.get("/api/v1/search", headers=auth, params=params)
    assert 400 <= found.status_code < 500
    assert found.json()["error"]["code"] == code


def test_query_errors_say_where(client: TestClient, auth: Headers) -> None:
    found = client.get("/api/v1/search", headers=auth, params={"q": "dog colour:red"}).json()
    assert found["error"]["position"] == 4


@pytest.mark.parametrize("q", ['"', "*", "NEAR(", "'", 'a" OR "b', "dog*)", "-", "^x", "{a}:b"])
def test_search_metacharacters_are_just_text(client: TestClient, auth: Headers, q: str) -> None:
    add_photos(client, auth, 1)
    found = client.get("/api/v1/search", headers=auth, params={"q": q})
    assert found.status_code in (200, 400)
    assert found.status_code == 200 or found.json()["error"]["code"] == "invalid_query"


def test_timeline_buckets_by_month_and_with_filters(
    client: TestClient, auth: Headers, services: Services, engine: Engine
) -> None:
    a, b, c = add_photos(client, auth, 3)
    describe(engine, a, datetime(2019, 6, 1, 10), PARIS, (48.85, 2.35))
    describe(engine, b, datetime(2019, 6, 20, 10))
    describe(engine, c, datetime(2021, 1, 2, 10), TOKYO, (35.68, 139.69))
    months = client.get("/api/v1/timeline/buckets", headers=auth).json()
    assert months["buckets"] == [{"key": "2021-01", "count": 1}, {"key": "2019-06", "count": 2}]
    days = client.get("/api/v1/timeline/buckets", headers=auth, params={"by": "day"}).json()
    assert [d["key"] for d in days["buckets"]] == ["2021-01-02", "2019-06-20", "2019-06-01"]
    located = client.get(
        "/api/v1/timeline/buckets", headers=auth, params={"q": "has:location"}
    ).json()
    assert located["buckets"] == [{"key": "2021-01", "count": 1}, {"key": "2019-06", "count": 1}]
    client.delete(f"/api/v1/photos/{b}", headers=auth)
    months = client.get("/api/v1/timeline/buckets", headers=auth).json()
    assert months["buckets"][1] == {"key": "2019-06", "count": 1}


def _statements(engine: Engine) -> list[str]:
    found: list[str] = []

    def listener(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        found.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    return found


@pytest.mark.parametrize(
    ("path", "grow"),
    [
        ("/api/v1/albums?include_sub=true", "albums"),
        ("/api/v1/search?q=IMG", "photos"),
        ("/api/v1/trash", "trash"),
        ("/api/v1/shares", "shares"),
        ("/api/v1/albums/{album}/photos", "album"),
        ("/api/v1/albums/{album}", "albums"),
        ("/api/v1/timeline/buckets?q=IMG", "photos"),
        ("/s/{token}", "album"),
        ("/api/v1/photos/{photo}/albums", "albums"),
    ],
)
def test_list_queries_do_not_grow_with_the_list(
    client: TestClient, auth: Headers, services: Services, path: str, grow: str, engine: Engine
) -> None:
    album = client.post("/api/v1/albums", headers=auth, json={"name": "A"}).json()["id"]
    (photo,) = add_photos(client, auth, 1, seed=1000)
    client.put(f"/api/v1/albums/{album}/photos", headers=auth, json={"ids": [photo]})
    token = client.post("/api/v1/shares", headers=auth, json={"album_id": album}).json()["token"]
    url = path.format(album=album, token=token, photo=photo)
    statements = _statements(engine)
    grower: dict[str, Callable[[int], object]] = {
        "albums": lambda n: [
            client.post(
                "/api/v1/albums", headers=auth, json={"name": f"x{n}{i}", "parent_id": album}
            )
            for i in range(3)
        ],
        "photos": lambda n: client.patch(
            "/api/v1/photos",
            headers=auth,
            json={"ids": add_photos(client, auth, 3, seed=n * 3), "tags": ["t"]},
        ),
        "trash": lambda n: client.post(
            "/api/v1/photos/trash",
            headers=auth,
            json={"ids": add_photos(client, auth, 3, seed=n * 3)},
        ),
        "shares": lambda n: [
            client.post("/api/v1/shares", headers=auth, json={"album_id": album}) for _ in range(3)
        ],
        "album": lambda n: client.put(
            f"/api/v1/albums/{album}/photos",
            headers=auth,
            json={"ids": add_photos(client, auth, 3, seed=n * 3)},
        ),
    }

    def count(n: int) -> int:
        grower[grow](n)
        client.get(url, headers=auth)
        statements.clear()
        assert client.get(url, headers=auth).status_code == 200
        return len(statements)

    assert count(1) == count(2) == count(3)


def test_one_date_for_several_photos_keeps_them_apart(client: TestClient, auth: Headers) -> None:
    ids = add_photos(client, auth, 3)
    when = "1999-12-31T23:59:00+01:00"
    assert (
        client.patch(
            "/api/v1/photos", headers=auth, json={"ids": ids, "taken_at": when}
        ).status_code
        == 204
    )
    found = client.get("/api/v1/search", headers=auth, params={"q": "on:1999-12-31"}).json()
    assert sorted(p["id"] for p in found["items"]) == sorted(ids)
    assert {p["taken_at"] for p in found["items"]} == {when}
