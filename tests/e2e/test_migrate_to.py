"""``albumen migrate-to``: an embedded library (SQLite, local disk) into PostgreSQL and S3.

A first copy dies part-way (after the photos, before their tags); the command run again
resumes it, copies what is missing, verifies every blob and every table, and the new world
then serves the same library to the same API key: photos and their bytes, thumbnails, tags,
search, nested albums and their counts, the timeline's days, likeness search.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import insert

from albumen.adapters.db.references import SqlBlobReferences
from albumen.adapters.db.tables import photo_embeddings
from albumen.adapters.db.transfer import SqlLibraryCopy
from albumen.app.infrastructure import blob_stores, open_database
from albumen.app.root import build
from albumen.config import Secret, Settings
from albumen.domain.analysis import LIKENESS
from albumen.services.transfer import LibraryTransfer
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.live import LiveServer

pytestmark = pytest.mark.slow


class _DiesAt(SqlLibraryCopy):
    """A copy that stops, as a killed process would, when it reaches one table."""

    def __init__(self, *args: object, table: str) -> None:
        super().__init__(*args)  # type: ignore[arg-type]  # the two engines, as given
        self._table = table

    def copy_table(self, name: str, progress: Callable[[int], None] | None = None) -> int:
        if name == self._table:
            raise KeyboardInterrupt("killed")
        return super().copy_table(name, progress)


def test_an_embedded_library_moves_to_postgresql_and_s3_and_a_cut_copy_resumes(
    tmp_path: Path, postgres_url: str, s3_endpoint: str
) -> None:
    source = Settings(data_dir=tmp_path / "data", run_workers_in_server=False, analysis=False)
    library = _make_library(source)
    storage = f"s3://albumen-moved?endpoint_url={s3_endpoint}&region=us-east-1"
    target = source.model_copy(
        update={"database_url": Secret(postgres_url), "storage_url": Secret(storage)}
    )

    source_engine, target_engine = open_database(source), open_database(target)
    cut = LibraryTransfer(
        _DiesAt(source_engine, target_engine, table="photo_tags"),
        SqlBlobReferences(source_engine),
        blob_stores(source).blobs,
        blob_stores(target).blobs,
    )
    with pytest.raises(KeyboardInterrupt):
        cut.run()
    source_engine.dispose()
    target_engine.dispose()

    env = {"ALBUMEN_DATA_DIR": str(source.data_dir), "ALBUMEN_ANALYSIS": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "albumen", "migrate-to", "--database-url", postgres_url,
         "--storage-url", storage, "--json", str(tmp_path / "report.json")],
        env={**os.environ, **env}, capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] is True
    assert report["present"] > 0  # the first run's blobs were found and checked, not copied
    assert report["copied"] + report["present"] == report["blobs"]
    counts = {c["table"]: (c["source"], c["target"]) for c in report["counts"]}
    assert counts["photos"] == (5, 5)
    assert counts["timeline_days"][0] == counts["timeline_days"][1] > 0  # rebuilt by triggers
    assert counts["map_cells"][0] == counts["map_cells"][1]
    assert counts["photo_tags"] == (2, 2)

    server = LiveServer(
        tmp_path / "moved",
        ALBUMEN_DATABASE_URL=postgres_url,
        ALBUMEN_STORAGE_URL=storage,
        ALBUMEN_RUN_WORKERS_IN_SERVER="false",
        ALBUMEN_ANALYSIS="false",
    )
    server.start()
    try:
        _check_the_same_library(server.url, library)
    finally:
        server.stop()


def _make_library(settings: Settings) -> dict[str, object]:
    built = build(settings)
    alice = built.services.users.add("alice")
    key = alice.secret
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings, built)) as client:
        files = [make_jpeg(48, 36, seed=n) for n in range(5)]
        ids = [
            upload(client, auth, data, f"IMG_{n}.jpg").json()["id"] for n, data in enumerate(files)
        ]
        built.infrastructure.queue.run_pending()
        client.patch(f"/api/v1/photos/{ids[0]}", headers=auth, json={"tags": ["beach", "dog"]})
        trip = client.post("/api/v1/albums", headers=auth, json={"name": "Trip"}).json()
        day = client.post(
            "/api/v1/albums", headers=auth, json={"name": "Day one", "parent_id": trip["id"]}
        ).json()
        client.put(f"/api/v1/albums/{trip['id']}/photos", headers=auth, json={"ids": ids[:3]})
        client.put(f"/api/v1/albums/{day['id']}/photos", headers=auth, json={"ids": ids[1:2]})
        client.delete(f"/api/v1/photos/{ids[4]}", headers=auth)  # one in the trash
        share = client.post(
            "/api/v1/shares", headers=auth, json={"photo_id": ids[0], "password": "sesame"}
        ).json()
        unlock = client.post(f"/s/{share['token']}/unlock", json={"password": "sesame"}).json()
        timeline = [p["id"] for p in client.get("/api/v1/photos", headers=auth).json()["items"]]
    rng = np.random.default_rng(3)
    with built.infrastructure.engine.begin() as conn:
        for n, photo_id in enumerate(ids[:4]):
            vector = rng.standard_normal(1280).astype(np.float32)
            conn.execute(
                insert(photo_embeddings).values(
                    photo_id=photo_id, owner_id=alice.user.id, space=LIKENESS,
                    model="test", vector=(vector / np.linalg.norm(vector)).tobytes(), phash=n,
                )
            )  # fmt: skip
    built.close()
    return {
        "auth": auth,
        "ids": ids,
        "hashes": {i: hashlib.sha256(d).hexdigest() for i, d in zip(ids, files, strict=True)},
        "timeline": timeline,
        "trip": trip["id"],
        "day": day["id"],
        "share": (share["token"], unlock["unlock"]),
    }


def _check_the_same_library(url: str, library: dict[str, object]) -> None:
    auth = library["auth"]
    assert isinstance(auth, dict)
    ids, hashes = library["ids"], library["hashes"]
    assert isinstance(ids, list)
    assert isinstance(hashes, dict)
    timeline = requests.get(f"{url}/api/v1/photos", headers=auth, timeout=30).json()["items"]
    assert [p["id"] for p in timeline] == library["timeline"]
    for photo_id in ids[:4]:
        original = requests.get(
            f"{url}/api/v1/photos/{photo_id}/original", headers=auth, timeout=30
        )
        assert hashlib.sha256(original.content).hexdigest() == hashes[photo_id]
        webp = auth | {"Accept": "image/webp"}
        thumb = requests.get(f"{url}/api/v1/photos/{photo_id}/thumbnail", headers=webp, timeout=30)
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/webp"  # the copied one
    found = requests.get(f"{url}/api/v1/search", headers=auth, params={"q": "tag:dog"}, timeout=30)
    assert [p["id"] for p in found.json()["items"]] == [ids[0]]
    albums = requests.get(f"{url}/api/v1/albums", headers=auth, timeout=30).json()
    counts = {a["name"]: a["photo_count"] for a in albums}
    assert counts["Trip"] == 3
    day = requests.get(f"{url}/api/v1/albums/{library['day']}", headers=auth, timeout=30).json()
    assert day["parent_id"] == library["trip"]
    trash = requests.get(f"{url}/api/v1/trash", headers=auth, timeout=30).json()["items"]
    assert [p["id"] for p in trash] == [ids[4]]
    share = library["share"]
    assert isinstance(share, tuple)
    token, unlock = share
    opened = requests.get(f"{url}/s/{token}", headers={"X-Share-Unlock": unlock}, timeout=30)
    assert opened.status_code == 200  # the signing secret moved with the library
    similar = requests.get(f"{url}/api/v1/photos/{ids[0]}/similar", headers=auth, timeout=30)
    assert similar.status_code == 200, similar.text
