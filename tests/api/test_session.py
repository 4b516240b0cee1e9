"""The web app's sign-in: cookie sessions, CSRF, sign-out and the password's life."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from albumen.adapters.db.tables import web_sessions
from albumen.app.services import Services
from albumen.domain.errors import Unauthorized
from tests.conftest import make_jpeg

ORIGIN = {"Origin": "http://testserver"}


def sign_in(client: TestClient, name: str = "alice", password: str = "correct horse") -> str:
    response = client.post(
        "/api/v1/session", json={"username": name, "password": password}, headers=ORIGIN
    )
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


def test_sign_in_sets_a_safe_cookie_and_the_api_answers_to_it(
    client: TestClient, services: Services
) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    response = client.post(
        "/api/v1/session",
        json={"username": "alice", "password": "correct horse"},
        headers=ORIGIN,
    )
    assert response.status_code == 200
    assert response.json()["user"]["name"] == "alice"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("albumen_session=")
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http here; over TLS the cookie is Secure
    assert response.headers["cache-control"] == "no-store"

    # the cookie alone reads: timeline, thumbnails, the session itself
    assert client.get("/api/v1/photos").status_code == 200
    again = client.get("/api/v1/session").json()
    assert again["csrf_token"] == response.json()["csrf_token"]


def test_a_wrong_password_or_name_is_the_same_401(client: TestClient, services: Services) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    for name, password in (("alice", "wrong horse"), ("nobody", "correct horse")):
        response = client.post(
            "/api/v1/session", json={"username": name, "password": password}, headers=ORIGIN
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "bad_credentials"
        assert "set-cookie" not in response.headers
    assert client.get("/api/v1/session").json()["error"]["code"] == "not_signed_in"


def test_guessing_is_slowed_down(client: TestClient, services: Services) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    codes = [
        client.post(
            "/api/v1/session", json={"username": "alice", "password": "guess"}, headers=ORIGIN
        ).status_code
        for _ in range(11)
    ]
    assert codes == [401] * 10 + [429]
    # now even the right password waits
    response = client.post(
        "/api/v1/session", json={"username": "alice", "password": "correct horse"}
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_attempts"


def test_changes_need_the_csrf_token_and_this_origin(
    client: TestClient, services: Services
) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    csrf = sign_in(client)
    upload = {"file": ("a.jpg", make_jpeg(seed=1))}

    bare = client.post("/api/v1/photos", files=upload)
    assert bare.status_code == 403
    assert bare.json()["error"]["code"] == "csrf_failed"
    forged = client.post("/api/v1/photos", files=upload, headers={"X-CSRF-Token": "guess"})
    assert forged.json()["error"]["code"] == "csrf_failed"
    elsewhere = client.post(
        "/api/v1/photos",
        files=upload,
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    # the token without saying where the request comes from: the origin check is not skipped
    # (#21, item 7; a browser always sends Origin with a signed-in change)
    nowhere = client.post("/api/v1/photos", files=upload, headers={"X-CSRF-Token": csrf})
    assert nowhere.status_code == 403
    assert nowhere.json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/v1/photos").json()["items"] == []  # nothing was stored
    referred = client.post(
        "/api/v1/photos",
        files={"file": ("r.jpg", make_jpeg(seed=3))},
        headers={"X-CSRF-Token": csrf, "Referer": "http://testserver/albums"},
    )
    assert referred.status_code == 201  # a Referer of this origin will do

    made = client.post("/api/v1/photos", files=upload, headers={"X-CSRF-Token": csrf, **ORIGIN})
    assert made.status_code == 201
    # API keys need no CSRF token: a browser never sends one by itself
    key = services.users.add_key("alice", "script").secret
    other = {"file": ("b.jpg", make_jpeg(seed=2))}
    with TestClient(client.app) as fresh:
        keyed = fresh.post(
            "/api/v1/photos", files=other, headers={"Authorization": f"Bearer {key}"}
        )
    assert keyed.status_code == 201


def test_sign_in_from_another_site_is_refused(client: TestClient, services: Services) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    response = client.post(
        "/api/v1/session",
        json={"username": "alice", "password": "correct horse"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_sign_out_ends_the_session_on_the_server(client: TestClient, services: Services) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    csrf = sign_in(client)
    secret = client.cookies["albumen_session"]
    assert client.delete("/api/v1/session").status_code == 403  # no CSRF token: no sign-out
    response = client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf, **ORIGIN})
    assert response.status_code == 204
    assert 'albumen_session=""' in response.headers["set-cookie"]
    # the old cookie, replayed, is dead
    client.cookies.set("albumen_session", secret)
    replay = client.get("/api/v1/photos")
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "session_expired"


def test_a_new_password_signs_out_everywhere(
    client: TestClient, services: Services, engine: Engine
) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    sign_in(client)
    assert client.get("/api/v1/photos").status_code == 200
    assert services.users.set_password("alice", "battery staple") == 1
    assert client.get("/api/v1/photos").status_code == 401
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(web_sessions)).scalar() == 0
    sign_in(client, password="battery staple")
    assert client.get("/api/v1/photos").status_code == 200


def test_a_session_ends_when_its_time_is_up(services: Services, engine: Engine) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    new = services.users.sign_in("alice", "correct horse", "127.0.0.1")
    assert services.users.session(new.secret).user.name == "alice"
    past = new.session.expires_at.replace(year=2000)
    with engine.begin() as conn:
        conn.execute(web_sessions.update().values(expires_at=past))
    services.users._sessions.clear()  # what a minute without use does
    with pytest.raises(Unauthorized) as raised:
        services.users.session(new.secret)
    assert raised.value.code == "session_expired"


def test_signing_in_rightly_uses_up_no_tries(client: TestClient, services: Services) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    for _ in range(12):  # a family's phones, tablets and laptops
        sign_in(client)
