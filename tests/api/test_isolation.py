"""Isolation, generated from the route table (#21, "keep it closed").

Every operation of the OpenAPI document that names an item by id is tried, with the ids of
Alice's real library, by Bob (another user: 404, the answer an unknown id gets, never 403 nor
2xx), by a visitor holding Alice's share link (its token opens nothing of the API: 401) and by
a signed-out client (401). Each operation has its request in ``CASES``; a new route that names
an id fails ``test_every_route_with_an_id_has_a_case`` until it gets one. After Bob's tries,
Alice's photo, album, person and share are exactly as they were.

The routes under ``/s/`` and ``/t/`` are the share visitor's own: a share link shows only what
it shares, which ``test_a_share_link_opens_only_what_it_shares`` checks with Alice's other
photo.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from albumen.adapters.db.analysis import SqlAnalysisRepo
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.queue import HueyJobQueue
from albumen.app.root import Albumen
from albumen.config import Settings
from albumen.domain.analysis import Analysis, Box, DetectedFace
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.fakes import FakeClock, FakeQueue

Ids = dict[str, str]
# The body each operation is sent with: one that Alice's own request could carry.
CASES: dict[tuple[str, str], Callable[[Ids], Any]] = {
    ("GET", "/api/v1/photos/{photo_id}"): lambda ids: None,
    ("PATCH", "/api/v1/photos/{photo_id}"): lambda ids: {"favorite": True},
    ("DELETE", "/api/v1/photos/{photo_id}"): lambda ids: None,
    ("POST", "/api/v1/photos/{photo_id}/restore"): lambda ids: None,
    ("GET", "/api/v1/photos/{photo_id}/albums"): lambda ids: None,
    ("GET", "/api/v1/photos/{photo_id}/original"): lambda ids: None,
    ("GET", "/api/v1/photos/{photo_id}/thumbnail"): lambda ids: None,
    ("GET", "/api/v1/photos/{photo_id}/faces"): lambda ids: None,
    ("GET", "/api/v1/photos/{photo_id}/similar"): lambda ids: None,
    ("GET", "/api/v1/albums/{album_id}"): lambda ids: None,
    ("PATCH", "/api/v1/albums/{album_id}"): lambda ids: {"name": "Mine now"},
    ("DELETE", "/api/v1/albums/{album_id}"): lambda ids: None,
    ("GET", "/api/v1/albums/{album_id}/photos"): lambda ids: None,
    ("GET", "/api/v1/albums/{album_id}/download"): lambda ids: None,
    ("PUT", "/api/v1/albums/{album_id}/photos"): lambda ids: {"ids": [ids["photo_id"]]},
    ("DELETE", "/api/v1/albums/{album_id}/photos"): lambda ids: {"ids": [ids["photo_id"]]},
    ("POST", "/api/v1/albums/{album_id}/photos/move"): lambda ids: {"ids": [ids["photo_id"]]},
    ("POST", "/api/v1/albums/{album_id}/members"): lambda ids: {"user": "bob"},
    ("DELETE", "/api/v1/albums/{album_id}/members/{user_id}"): lambda ids: None,
    ("GET", "/api/v1/people/{person_id}"): lambda ids: None,
    ("PATCH", "/api/v1/people/{person_id}"): lambda ids: {"name": "Stolen"},
    ("POST", "/api/v1/people/{person_id}/merge"): lambda ids: {"ids": [ids["person_id"]]},
    ("GET", "/api/v1/people/{person_id}/photos"): lambda ids: None,
    ("GET", "/api/v1/people/{person_id}/faces"): lambda ids: None,
    ("PATCH", "/api/v1/faces/{face_id}"): lambda ids: {"person_id": None},
    ("GET", "/api/v1/faces/{face_id}/thumbnail"): lambda ids: None,
    ("DELETE", "/api/v1/shares/{link_id}"): lambda ids: None,
    ("GET", "/api/v1/memories/{key}/photos"): lambda ids: None,
    ("PUT", "/api/v1/memories/{key}/hidden"): lambda ids: None,
    ("DELETE", "/api/v1/memories/{key}/hidden"): lambda ids: None,
    ("HEAD", "/api/v1/uploads/{upload_id}"): lambda ids: None,
    ("PATCH", "/api/v1/uploads/{upload_id}"): lambda ids: b"0123456789",
    ("DELETE", "/api/v1/uploads/{upload_id}"): lambda ids: None,
}
# The share visitor's own routes: a token, not an account, opens them. The admin's answer 403
# to anyone else, whatever they name (``test_only_an_admin_reaches_an_admin_route``).
SHARE_ROUTES = ("/s/", "/t/")
ADMIN = "/api/v1/admin/"
TUS = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0"}
TUS_BODY = {"Content-Type": "application/offset+octet-stream"}


def _paths() -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = create_app(
        Settings(data_dir=Path("/nonexistent"))
    ).openapi()["paths"]
    return paths


ROUTES_WITH_IDS = sorted(
    (method.upper(), path)
    for path, methods in _paths().items()
    for method in methods
    if "{" in path and not path.startswith((*SHARE_ROUTES, ADMIN))
)
ADMIN_ROUTES = sorted(
    (method.upper(), path)
    for path, methods in _paths().items()
    for method in methods
    if path.startswith(ADMIN)
)


def test_every_route_with_an_id_has_a_case() -> None:
    assert [route for route in ROUTES_WITH_IDS if route not in CASES] == []
    assert [route for route in CASES if route not in ROUTES_WITH_IDS] == []


class OneFace:
    """An analyser that finds one face, so that Alice has a person and a face to name."""

    version = "one-face/1"

    def analyze(self, image: bytes) -> Analysis:
        embedding = np.zeros(128)
        embedding[0] = 1.0
        face = DetectedFace(Box(0.2, 0.2, 0.3, 0.3), (), 0.99, tuple(embedding), make_jpeg(32, 32))
        return Analysis(faces=[face])


@pytest.fixture
def alice(
    client: TestClient,
    auth: dict[str, str],
    albumen: Albumen,
    queue: HueyJobQueue,
) -> Ids:
    """Alice's library: a photo with a face (and so a person), an album holding it, a share
    link to the album, a tus upload under way; and Bob, a user of the same server."""
    photo = upload(client, auth, make_jpeg(seed=31)).json()["id"]
    other = upload(client, auth, make_jpeg(seed=32)).json()["id"]
    queue.run_pending()
    engine, services = albumen.infrastructure.engine, albumen.services
    from albumen.services.analysis import AnalysisService

    analysis = AnalysisService(
        SqlPhotoRepo(engine),
        SqlAnalysisRepo(engine),
        albumen.infrastructure.stores.blobs,
        OneFace(),
        FakeQueue(),
        FakeClock(),
    )
    for each in (photo, other):  # one face on each: a person is a face seen twice
        analysis.analyze_photo(each)
    services.people.group_new_faces(services.users.by_name("alice").id)
    face = client.get(f"/api/v1/photos/{photo}/faces", headers=auth).json()[0]
    assert face["person_id"] is not None
    album = client.post("/api/v1/albums", headers=auth, json={"name": "Ice"}).json()["id"]
    client.put(f"/api/v1/albums/{album}/photos", headers=auth, json={"ids": [photo]})
    link = client.post("/api/v1/shares", headers=auth, json={"album_id": album}).json()
    made = client.post(
        "/api/v1/uploads", headers=auth | {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    )
    bob = services.users.add("bob")
    day = client.get("/api/v1/timeline/buckets?by=day", headers=auth).json()["buckets"][0]["key"]
    return {
        "key": f"on-this-day-{day}",  # a memory's key: the day of Alice's photos
        "photo_id": photo,
        "other_photo": other,
        "album_id": album,
        "person_id": face["person_id"],
        "face_id": face["id"],
        "link_id": link["id"],
        "token": link["token"],
        "upload_id": made.headers["location"].rsplit("/", 1)[1],
        "user_id": bob.user.id,
        "bob_key": bob.secret,
    }


def _send(client: TestClient, method: str, path: str, ids: Ids, headers: dict[str, str]) -> Any:
    body = CASES[method, path](ids)
    url = path.format(**{name: ids[name] for name in ids if "{" + name + "}" in path})
    if isinstance(body, bytes):
        return client.request(method, url, headers=headers | TUS | TUS_BODY, content=body)
    return client.request(method, url, headers=headers | TUS, json=body)


def _seen(client: TestClient, auth: dict[str, str], ids: Ids) -> list[Any]:
    """What Alice sees of everything Bob tried to reach."""
    return [
        client.get(f"/api/v1/photos/{ids['photo_id']}", headers=auth).json(),
        client.get(f"/api/v1/albums/{ids['album_id']}", headers=auth).json(),
        client.get(f"/api/v1/albums/{ids['album_id']}/photos", headers=auth).json(),
        client.get(f"/api/v1/people/{ids['person_id']}", headers=auth).json(),
        client.get(f"/api/v1/photos/{ids['photo_id']}/faces", headers=auth).json(),
        client.get("/api/v1/shares", headers=auth).json(),
        client.head(f"/api/v1/uploads/{ids['upload_id']}", headers=auth | TUS).headers.get(
            "upload-offset"
        ),
    ]


@pytest.mark.parametrize(
    ("method", "path"), ROUTES_WITH_IDS, ids=[f"{m} {p}" for m, p in ROUTES_WITH_IDS]
)
def test_another_user_a_share_visitor_and_nobody_reach_nothing(
    client: TestClient, auth: dict[str, str], alice: Ids, method: str, path: str
) -> None:
    before = _seen(client, auth, alice)
    assert _send(client, "GET", "/api/v1/photos/{photo_id}", alice, auth).status_code == 200
    bob = _send(client, method, path, alice, {"Authorization": f"Bearer {alice['bob_key']}"})
    assert bob.status_code == 404, bob.text
    if method != "HEAD":
        assert bob.json()["error"]["code"].endswith("not_found")
    visitor = {"Authorization": f"Bearer {alice['token']}"}
    assert _send(client, method, path, alice, visitor).status_code == 401
    assert _send(client, method, path, alice, {}).status_code == 401
    assert _seen(client, auth, alice) == before


@pytest.mark.parametrize(
    ("method", "path"), ADMIN_ROUTES, ids=[f"{m} {p}" for m, p in ADMIN_ROUTES]
)
def test_only_an_admin_reaches_an_admin_route(
    client: TestClient, auth: dict[str, str], alice: Ids, method: str, path: str
) -> None:
    """Bob, who is no admin, is told so (403 ``admin_only``) before anything else is read,
    an admin's user id in the path or not; nobody signed in is asked to (401)."""
    url = path.format(user_id=alice["user_id"]) + ("?confirm=bob" if method == "DELETE" else "")
    body = {"POST": {"name": "mallory"}, "PATCH": {"admin": True}}.get(method)
    bob = client.request(
        method, url, headers={"Authorization": f"Bearer {alice['bob_key']}"}, json=body
    )
    assert bob.status_code == 403, bob.text
    assert bob.json()["error"]["code"] == "admin_only"
    assert client.request(method, url, json=body).status_code == 401
    assert [u["name"] for u in client.get("/api/v1/admin/users", headers=auth).json()] == [
        "alice",
        "bob",
    ]


def test_a_share_link_opens_only_what_it_shares(client: TestClient, alice: Ids) -> None:
    token, shared, other = alice["token"], alice["photo_id"], alice["other_photo"]
    assert client.get(f"/s/{token}/photos/{shared}/thumbnail").status_code == 200
    for photo in (other, alice["face_id"], "0" * 36):
        for kind in ("thumbnail", "original"):
            refused = client.get(f"/s/{token}/photos/{photo}/{kind}")
            assert refused.status_code == 404, (photo, kind, refused.text)
    listed = client.get(f"/s/{token}").json()
    assert other not in str(listed)
