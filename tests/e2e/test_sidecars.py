"""Metadata sidecars beside the blobs, and a lost database rebuilt from them."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from albumen.adapters.queue import HueyJobQueue
from albumen.app.root import build
from albumen.config import Settings
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.e2e.test_cli import _albumen
from tests.live import LiveServer

pytestmark = pytest.mark.slow

DATE_ORIGINAL, OFFSET_ORIGINAL, EXIF_IFD, GPS_IFD = 0x9003, 0x9011, 0x8769, 0x8825
DELFT = {1: "N", 2: (52.0, 0.0, 42.0), 3: "E", 4: (4.0, 21.0, 30.0)}


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, run_workers_in_server=False, analysis=False)


def _sidecar(data_dir: Path, kind: str, record_id: str) -> dict[str, Any]:
    path = data_dir / "blobs" / "sidecars" / kind / record_id[:2] / f"{record_id}.json"
    found: dict[str, Any] = json.loads(path.read_text())
    return found


def _photo(n: int, when: str) -> bytes:
    exif = {EXIF_IFD: {DATE_ORIGINAL: when, OFFSET_ORIGINAL: "+02:00"}, GPS_IFD: DELFT}
    return make_jpeg(320, 240, seed=n, exif=exif)


def _build(queue: HueyJobQueue, client: TestClient, auth: dict[str, str]) -> list[str]:
    ids = [
        upload(client, auth, _photo(n, f"2024:06:0{n + 1} 10:00:00"), f"p{n}.jpg").json()["id"]
        for n in range(3)
    ]
    queue.run_pending()
    client.patch(
        f"/api/v1/photos/{ids[0]}",
        headers=auth,
        json={"favorite": True, "description": "the dunes"},
    )
    trip = client.post("/api/v1/albums", headers=auth, json={"name": "Trip"}).json()
    day = client.post(
        "/api/v1/albums", headers=auth, json={"name": "Day one", "parent_id": trip["id"]}
    ).json()
    client.put(f"/api/v1/albums/{trip['id']}/photos", headers=auth, json={"ids": ids})
    client.put(f"/api/v1/albums/{day['id']}/photos", headers=auth, json={"ids": ids[:1]})
    client.delete(f"/api/v1/photos/{ids[2]}", headers=auth)  # in the trash
    return ids


def test_sidecars_follow_every_change(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    built = build(_settings(data_dir))
    try:
        with TestClient(create_app(built.infrastructure.settings, built)) as client:
            auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
            photo = upload(client, auth, _photo(1, "2024:06:01 10:00:00")).json()
            built.infrastructure.queue.run_pending()
            assert built.services.sidecars.flush() >= 2  # the user and the photo
            assert built.services.sidecars.flush() == 0  # nothing changed since
            written = _sidecar(data_dir, "photo", photo["id"])
            assert written["photo"]["sha256"] == photo["sha256"]
            assert written["photo"]["taken_offset_min"] == 120
            assert written["place"]["country_code"] == "NL"
            assert {d["size"] for d in written["derivatives"]} == {"thumb", "preview"}

            client.patch(f"/api/v1/photos/{photo['id']}", headers=auth, json={"favorite": True})
            built.services.sidecars.flush()
            assert _sidecar(data_dir, "photo", photo["id"])["photo"]["favorite"] is True

            client.delete(f"/api/v1/photos/{photo['id']}", headers=auth)
            emptied = client.post("/api/v1/trash/empty", headers=auth, json={"ids": [photo["id"]]})
            assert emptied.json()["ids"] == [photo["id"]]  # deleted for good
            built.services.sidecars.flush()
            path = data_dir / "blobs" / "sidecars" / "photo" / photo["id"][:2]
            assert not (path / f"{photo['id']}.json").exists()
    finally:
        built.close()


def test_rebuild_index_brings_the_library_back_from_the_sidecars(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    built = build(_settings(data_dir))
    try:
        with TestClient(create_app(built.infrastructure.settings, built)) as client:
            key = built.services.users.add("alice").secret
            auth = {"Authorization": f"Bearer {key}"}
            ids = _build(built.infrastructure.queue, client, auth)
            before = {i: client.get(f"/api/v1/photos/{i}", headers=auth).json() for i in ids}
            albums_before = client.get("/api/v1/albums", headers=auth).json()
            map_before = client.get("/api/v1/map?zoom=12", headers=auth).json()
            assert map_before["total"] == 2  # located, and not in the trash
            built.services.sidecars.flush()
    finally:
        built.close()
    for name in ("albumen.db", "albumen.db-wal", "albumen.db-shm"):
        (data_dir / name).unlink(missing_ok=True)  # the database is lost

    rebuilt = _albumen(data_dir, "rebuild-index")
    assert "1 users, 3 photos and 2 albums" in rebuilt.stdout
    assert "every photo's blobs are there" in rebuilt.stdout

    built = build(_settings(data_dir))
    try:
        with TestClient(create_app(built.infrastructure.settings, built)) as client:
            auth = {"Authorization": f"Bearer {key}"}  # the same key still works
            for photo_id, was in before.items():
                now = client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()
                for field in ("sha256", "taken_at", "taken_at_utc", "location", "camera"):
                    assert now[field] == was[field], field
                for field in ("favorite", "description", "width", "height", "status"):
                    assert now[field] == was[field], field
            assert before[ids[0]]["location"]["place"]  # a place name came back too
            timeline = client.get("/api/v1/photos", headers=auth).json()["items"]
            assert [p["id"] for p in timeline] == [ids[1], ids[0]]  # the trashed one is not
            trash = client.get("/api/v1/trash", headers=auth).json()["items"]
            assert [p["id"] for p in trash] == [ids[2]]
            albums = client.get("/api/v1/albums", headers=auth).json()
            shape = sorted((a["name"], a["parent_id"] is None, a["photo_count"]) for a in albums)
            assert shape == sorted(
                (a["name"], a["parent_id"] is None, a["photo_count"]) for a in albums_before
            )
            thumb = client.get(
                f"/api/v1/photos/{ids[0]}/thumbnail", headers=auth | {"Accept": "image/webp"}
            )
            assert thumb.status_code == 200
            found = client.get("/api/v1/search", headers=auth, params={"q": "dunes"}).json()
            assert [p["id"] for p in found["items"]] == [ids[0]]  # the search index is rebuilt
            assert client.get("/api/v1/map?zoom=12", headers=auth).json() == map_before
    finally:
        built.close()

    again = _albumen(data_dir, "rebuild-index", check=False)
    assert again.returncode == 2  # never over a library
    assert "not empty" in again.stderr


def _garbage_over(path: Path) -> None:
    """16 KB of garbage written over the file, in place (as a bad disk or a stray dd does)."""
    with path.open("r+b") as file:
        file.write(random.Random(15).randbytes(16384))
        file.flush()
        os.fsync(file.fileno())


def test_a_damaged_database_is_named_and_rebuild_index_moves_it_aside(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    built = build(_settings(data_dir))
    try:
        with TestClient(create_app(built.infrastructure.settings, built)) as client:
            key = built.services.users.add("alice").secret
            auth = {"Authorization": f"Bearer {key}"}
            ids = _build(built.infrastructure.queue, client, auth)
            built.services.sidecars.flush()
    finally:
        built.close()
    for name in ("albumen.db-wal", "albumen.db-shm"):
        (data_dir / name).unlink(missing_ok=True)
    _garbage_over(data_dir / "albumen.db")

    served = _albumen(data_dir, "serve", check=False)  # one line, not a traceback
    assert served.returncode == 2
    (line,) = served.stderr.strip().splitlines()
    assert line.startswith(f"error: the database {data_dir.resolve() / 'albumen.db'} is damaged")
    assert "rebuild-index" in line

    rebuilt = _albumen(data_dir, "rebuild-index")
    assert "the database was damaged (file is not a database): moved aside to" in rebuilt.stdout
    assert "1 users, 3 photos and 2 albums" in rebuilt.stdout
    (aside,) = data_dir.glob("albumen.db.damaged-*")
    assert aside.read_bytes()[:16384] == random.Random(15).randbytes(16384)  # kept, as it was
    built = build(_settings(data_dir))
    try:
        assert built.services.photos.get(built.services.users.by_name("alice").id, ids[0])
    finally:
        built.close()


def test_readiness_fails_when_the_database_file_goes_bad_under_a_running_server(
    tmp_path: Path,
) -> None:
    server = LiveServer(tmp_path / "data")
    server.start()
    try:
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
        _garbage_over(server.data_dir / "albumen.db")
        answer = requests.get(f"{server.url}/readyz", timeout=10)
        assert answer.status_code == 503
        assert "database" in answer.json()["failing"]
    finally:
        server.stop()
