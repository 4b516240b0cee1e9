"""Many photos in one zip, streamed: an album (with its sub-albums), a share, a selection (#16)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from albumen.app.services import Services
from albumen.domain.photos import Photo
from tests.conftest import make_jpeg, upload

Headers = dict[str, str]
ORIGIN = {"Origin": "http://testserver"}


def _unzipped(answer: object) -> dict[str, bytes]:
    assert getattr(answer, "status_code", None) == 200, getattr(answer, "text", answer)
    headers = getattr(answer, "headers", {})
    assert headers["content-type"] == "application/zip"
    assert headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(getattr(answer, "content", b""))) as archive:
        assert archive.testzip() is None  # every entry's CRC agrees
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_an_album_and_its_sub_albums_come_as_one_zip_with_unique_names(
    client: TestClient, auth: Headers
) -> None:
    first, second, below = make_jpeg(seed=1), make_jpeg(seed=2), make_jpeg(seed=3)
    ids = [
        upload(client, auth, first, "IMG_1.jpg").json()["id"],
        upload(client, auth, second, "img_1.JPG").json()["id"],  # the same name, to Windows
        upload(client, auth, below, "IMG_1.jpg").json()["id"],
    ]
    trip = client.post("/api/v1/albums", headers=auth, json={"name": "Trip: Rome/2019"}).json()
    day = client.post(
        "/api/v1/albums", headers=auth, json={"name": "Day 1", "parent_id": trip["id"]}
    ).json()
    client.put(f"/api/v1/albums/{trip['id']}/photos", headers=auth, json={"ids": ids[:2]})
    client.put(f"/api/v1/albums/{day['id']}/photos", headers=auth, json={"ids": ids[2:]})

    answer = client.get(f"/api/v1/albums/{trip['id']}/download", headers=auth)
    files = _unzipped(answer)
    assert sorted(files.values()) == sorted([first, second, below])
    # unique however a disk compares names
    assert {name.casefold() for name in files} == {"img_1.jpg", "img_1 (2).jpg", "img_1 (3).jpg"}
    assert "filename*=UTF-8''Trip%20Rome2019.zip" in answer.headers["content-disposition"]


def test_a_selection_comes_as_one_zip_and_another_users_photo_is_not_found(
    client: TestClient, auth: Headers, services: Services
) -> None:
    mine = [upload(client, auth, make_jpeg(seed=10 + n), f"{n}.jpg").json()["id"] for n in (1, 2)]
    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    theirs = upload(client, bob, make_jpeg(seed=20), "bob.jpg").json()["id"]

    files = _unzipped(client.post("/api/v1/photos/download", headers=auth, json={"ids": mine}))
    assert files == {"1.jpg": make_jpeg(seed=11), "2.jpg": make_jpeg(seed=12)}
    for unseen in ([*mine, theirs], ["not-an-id"], ["\x00"]):  # a NUL was PostgreSQL's 500
        refused = client.post("/api/v1/photos/download", headers=auth, json={"ids": unseen})
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"]["code"] == "photo_not_found"
    bad_bodies: list[dict[str, list[str]]] = [
        {"ids": []},
        {"photos": mine},
        {"ids": ["x"] * 10_001},
    ]
    for bad in bad_bodies:
        answer = client.post("/api/v1/photos/download", headers=auth, json=bad)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "invalid_selection"


def test_the_web_apps_form_needs_its_sessions_csrf_token(
    client: TestClient, services: Services
) -> None:
    """A browser saves a form's answer as it arrives: the web app posts the selection as a
    form, with the session's CSRF token in it (a form cannot send headers)."""
    services.users.add("alice")
    services.users.set_password("alice", "correct horse")
    signed = client.post(
        "/api/v1/session",
        json={"username": "alice", "password": "correct horse"},
        headers=ORIGIN,
    )
    csrf = signed.json()["csrf_token"]
    auth = {"X-CSRF-Token": csrf} | ORIGIN
    photo = upload(client, auth, make_jpeg(seed=30), "form.jpg").json()["id"]
    form = {"ids": photo, "csrf_token": csrf}
    assert _unzipped(client.post("/api/v1/photos/download", data=form, headers=ORIGIN)) == {
        "form.jpg": make_jpeg(seed=30)
    }
    forged = client.post(
        "/api/v1/photos/download", data={"ids": photo, "csrf_token": "guess"}, headers=ORIGIN
    )
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "csrf_failed"
    # the web app's pages send no referrer: a browser posts their forms with "Origin: null"
    # and says where the request comes from in Sec-Fetch-Site, which no page can set
    ours = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/v1/photos/download", data=form, headers=ours).status_code == 200
    for elsewhere in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ):
        refused = client.post("/api/v1/photos/download", data=form, headers=elsewhere)
        assert refused.status_code == 403, elsewhere


def test_a_share_downloads_only_where_it_allows_it(client: TestClient, auth: Headers) -> None:
    photo = upload(client, auth, make_jpeg(seed=40), "shared.jpg").json()["id"]
    album = client.post("/api/v1/albums", headers=auth, json={"name": "Family"}).json()
    client.put(f"/api/v1/albums/{album['id']}/photos", headers=auth, json={"ids": [photo]})
    closed = client.post("/api/v1/shares", headers=auth, json={"album_id": album["id"]}).json()
    answer = client.get(f"/s/{closed['token']}/download")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "download_not_allowed"
    locked = client.post(
        "/api/v1/shares",
        headers=auth,
        json={"album_id": album["id"], "allow_download": True, "password": "sesame"},
    ).json()
    assert client.get(f"/s/{locked['token']}/download").status_code == 401
    unlock = client.post(f"/s/{locked['token']}/unlock", json={"password": "sesame"}).json()
    answer = client.get(
        f"/s/{locked['token']}/download", headers={"X-Share-Unlock": unlock["unlock"]}
    )
    assert _unzipped(answer) == {"shared.jpg": make_jpeg(seed=40)}
    assert client.get("/s/no-such-link/download").status_code == 404


def test_the_zip_is_streamed_and_passes_the_zip64_limits(
    client: TestClient, auth: Headers, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first bytes go out before the second photo is even looked up (nothing is built
    in memory or on disk first); an entry or an archive past 4 GiB is written as Zip64,
    here with the limit brought down to a few kilobytes."""
    ids = [upload(client, auth, make_jpeg(seed=50 + n), f"{n}.jpg").json()["id"] for n in range(3)]
    owner = services.users.by_name("alice").id
    looked_up: list[str] = []

    def one_by_one() -> Iterator[Photo]:
        for photo_id in ids:
            looked_up.append(photo_id)
            yield services.photos.get(owner, photo_id)

    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1024)
    archive = services.archives.zip("streamed", one_by_one())
    first = next(archive.chunks)
    assert first.startswith(b"PK\x03\x04")
    assert looked_up == ids[:1]
    data = first + b"".join(archive.chunks)
    monkeypatch.undo()
    with zipfile.ZipFile(io.BytesIO(data)) as read:
        assert read.testzip() is None
        assert [read.read(f"{n}.jpg") for n in range(3)] == [
            make_jpeg(seed=50 + n) for n in range(3)
        ]
    assert b"PK\x06\x06" in data  # the Zip64 end of central directory record
