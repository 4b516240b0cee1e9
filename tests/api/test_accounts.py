"""Accounts an admin manages (#16 item 7): create, reset a password, make an admin, disable and
enable, delete with everything theirs; and no one else may. In both worlds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from albumen.adapters.queue import HueyJobQueue
from albumen.app.infrastructure import Infrastructure
from albumen.app.services import Services
from tests.conftest import make_jpeg, upload

Headers = dict[str, str]
ORIGIN = {"Origin": "http://testserver"}
PASSWORD = "correct horse battery"


def _signs_in(client: TestClient, name: str, password: str) -> tuple[int, str]:
    client.cookies.clear()
    answer = client.post(
        "/api/v1/session", json={"username": name, "password": password}, headers=ORIGIN
    )
    client.cookies.clear()
    return answer.status_code, answer.json().get("error", {}).get("code", "")


def _account(client: TestClient, auth: Headers, name: str) -> dict[str, object]:
    found: dict[str, object] = next(
        a for a in client.get("/api/v1/admin/users", headers=auth).json() if a["name"] == name
    )
    return found


def test_an_admin_creates_a_user_who_signs_in(client: TestClient, auth: Headers) -> None:
    made = client.post(
        "/api/v1/admin/users", headers=auth, json={"name": "carol", "password": PASSWORD}
    )
    assert made.status_code == 201, made.text
    carol = made.json()
    assert (carol["name"], carol["is_admin"], carol["disabled"]) == ("carol", False, False)
    assert (carol["photos"], carol["bytes"], carol["has_password"]) == (0, 0, True)
    assert _signs_in(client, "carol", PASSWORD) == (200, "")
    again = client.post("/api/v1/admin/users", headers=auth, json={"name": "carol"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "user_exists"
    weak = client.post("/api/v1/admin/users", headers=auth, json={"name": "dan", "password": "x"})
    assert weak.status_code == 422
    names = [a["name"] for a in client.get("/api/v1/admin/users", headers=auth).json()]
    assert names == ["alice", "carol"]


def test_usage_a_reset_password_and_a_new_admin(
    client: TestClient, auth: Headers, services: Services
) -> None:
    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    for n in (1, 2):
        upload(client, bob, make_jpeg(seed=n), f"{n}.jpg")
    account = _account(client, auth, "bob")
    assert account["photos"] == 2
    assert int(str(account["bytes"])) > 0
    url = f"/api/v1/admin/users/{account['id']}"

    reset = client.patch(url, headers=auth, json={"password": PASSWORD})
    assert reset.status_code == 200, reset.text
    assert _signs_in(client, "bob", PASSWORD) == (200, "")
    assert client.patch(url, headers=auth, json={"password": "another one!"}).status_code == 200
    assert _signs_in(client, "bob", PASSWORD) == (401, "bad_credentials")

    assert client.get("/api/v1/admin/users", headers=bob).status_code == 403
    assert client.patch(url, headers=auth, json={"admin": True}).json()["is_admin"] is True
    assert client.get("/api/v1/admin/users", headers=bob).status_code == 200
    assert client.patch(url, headers=auth, json={"admin": False}).json()["is_admin"] is False
    assert client.get("/api/v1/admin/users", headers=bob).status_code == 403


def test_a_disabled_user_cannot_sign_in_or_use_a_key_and_keeps_their_photos(
    client: TestClient, auth: Headers, services: Services
) -> None:
    made = services.users.create("erin", PASSWORD, admin=False)
    erin = {"Authorization": f"Bearer {services.users.add_key('erin', 'phone').secret}"}
    upload(client, erin, make_jpeg(seed=7), "e.jpg")
    url = f"/api/v1/admin/users/{made.id}"
    assert client.patch(url, headers=auth, json={"disabled": True}).json()["disabled"] is True
    refused = client.get("/api/v1/photos", headers=erin)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "account_disabled"
    assert _signs_in(client, "erin", PASSWORD) == (401, "account_disabled")
    assert _account(client, auth, "erin")["photos"] == 1  # nothing of theirs went
    assert client.patch(url, headers=auth, json={"disabled": False}).json()["disabled"] is False
    assert client.get("/api/v1/photos", headers=erin).status_code == 200
    assert _signs_in(client, "erin", PASSWORD) == (200, "")


def test_an_admin_cannot_demote_disable_or_delete_themselves(
    client: TestClient, auth: Headers
) -> None:
    me = _account(client, auth, "alice")
    url = f"/api/v1/admin/users/{me['id']}"
    for change in ({"admin": False}, {"disabled": True}):
        refused = client.patch(url, headers=auth, json=change)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "own_account"
    refused = client.delete(f"{url}?confirm=alice", headers=auth)
    assert refused.status_code == 409
    assert client.get("/api/v1/admin/users", headers=auth).status_code == 200  # still an admin


def test_deleting_a_user_takes_everything_theirs_and_nothing_else(
    client: TestClient,
    auth: Headers,
    services: Services,
    queue: HueyJobQueue,
    infrastructure: Infrastructure,
) -> None:
    frank_user = services.users.add("frank")
    frank = {"Authorization": f"Bearer {frank_user.secret}"}
    mine = upload(client, auth, make_jpeg(seed=20), "mine.jpg").json()["id"]
    theirs = [upload(client, frank, make_jpeg(seed=20 + n), f"f{n}.jpg").json() for n in (1, 2)]
    queue.run_pending()
    # an album of Alice's that Frank contributes to, and an album and link of his own
    shared = client.post("/api/v1/albums", headers=auth, json={"name": "Together"}).json()["id"]
    client.post(
        f"/api/v1/albums/{shared}/members",
        headers=auth,
        json={"user": "frank", "role": "contributor"},
    )
    client.put(f"/api/v1/albums/{shared}/photos", headers=auth, json={"ids": [mine]})
    client.put(f"/api/v1/albums/{shared}/photos", headers=frank, json={"ids": [theirs[0]["id"]]})
    own = client.post("/api/v1/albums", headers=frank, json={"name": "Frank's"}).json()["id"]
    token = client.post("/api/v1/shares", headers=frank, json={"album_id": own}).json()["token"]
    url = f"/api/v1/admin/users/{frank_user.user.id}"

    wrong = client.delete(f"{url}?confirm=Frank", headers=auth)
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "confirm_name"
    gone = client.delete(f"{url}?confirm=frank", headers=auth)
    assert gone.status_code == 200, gone.text
    assert gone.json()["name"] == "frank"
    assert gone.json()["photos"] == 2

    assert client.get("/api/v1/photos", headers=frank).status_code == 401
    assert client.get(f"/s/{token}").status_code == 404
    together = client.get(f"/api/v1/albums/{shared}/photos", headers=auth).json()["items"]
    assert [p["id"] for p in together] == [mine]  # Alice's album keeps her photo only
    assert [p["id"] for p in client.get("/api/v1/photos", headers=auth).json()["items"]] == [mine]
    assert "frank" not in [
        a["name"] for a in client.get("/api/v1/admin/users", headers=auth).json()
    ]
    # the blobs no one refers to any more go at the next sweep
    services.sweep.sweep_blobs(grace=timedelta(seconds=-60))
    for photo in theirs:
        assert not infrastructure.stores.blobs.exists(photo["sha256"])
    assert client.get(f"/api/v1/photos/{mine}/original", headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/admin/users", None),
        ("POST", "/api/v1/admin/users", {"name": "x"}),
        ("PATCH", "/api/v1/admin/users/{id}", {"admin": True}),
        ("DELETE", "/api/v1/admin/users/{id}?confirm=alice", None),
    ],
)
def test_only_an_admin_manages_accounts(
    client: TestClient,
    auth: Headers,
    services: Services,
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    alice = _account(client, auth, "alice")
    url = path.format(id=alice["id"])
    refused = client.request(method, url, headers=bob, json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "admin_only"
    assert client.request(method, url, json=body).status_code == 401
    assert _account(client, auth, "alice")["is_admin"] is True


def test_an_admin_has_every_failed_photo_processed_again(
    client: TestClient, auth: Headers, services: Services, queue: HueyJobQueue, engine: Engine
) -> None:
    """A photo failed by a fault taken for bad media (as the PostgreSQL date-source bug once
    did) is processed again, whoever owns it; a truly broken file fails again, saying why."""
    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    good = upload(client, bob, make_jpeg(seed=40), "good.jpg").json()["id"]
    broken = upload(client, auth, make_jpeg(seed=41)[:600], "broken.jpg").json()["id"]
    queue.run_pending()
    assert client.get(f"/api/v1/photos/{broken}", headers=auth).json()["status"] == "failed"
    with engine.begin() as conn:  # the fault: a good photo ended failed
        conn.execute(
            text("UPDATE photos SET status = 'failed', error = 'a fault' WHERE id = :id"),
            {"id": good},
        )
    assert client.get("/api/v1/admin/jobs", headers=auth).json() == {"failed": 2}
    assert client.post("/api/v1/admin/jobs/retry", headers=bob).status_code == 403
    retried = client.post("/api/v1/admin/jobs/retry", headers=auth | ORIGIN)
    assert retried.json() == {"queued": 2}
    assert client.get(f"/api/v1/photos/{good}", headers=bob).json()["status"] == "pending"
    queue.run_pending()
    again = client.get(f"/api/v1/photos/{good}", headers=bob).json()
    assert (again["status"], again["error"]) == ("ready", None)
    still = client.get(f"/api/v1/photos/{broken}", headers=auth).json()
    assert still["status"] == "failed"
    assert still["error"]
    assert client.get("/api/v1/admin/jobs", headers=auth).json() == {"failed": 1}
