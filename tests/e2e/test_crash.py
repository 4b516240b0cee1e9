"""kill -9 the server while uploads are in flight: nothing acknowledged is lost, no orphans."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import make_jpeg
from tests.live import LiveServer

pytestmark = pytest.mark.slow


def _upload_until_killed(server: LiveServer, key: str, acked: dict[str, str], seed: int) -> None:
    for n in range(200):
        data = make_jpeg(1200, 900, seed=seed * 1000 + n)
        try:
            response = requests.post(
                f"{server.url}/api/v1/photos",
                headers={"Authorization": f"Bearer {key}"},
                files={"file": (f"{seed}-{n}.jpg", data)},
                timeout=30,
            )
        except requests.RequestException:
            return
        if response.status_code in (200, 201):
            acked[response.json()["id"]] = hashlib.sha256(data).hexdigest()


def _blob_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "blobs").glob("??/??/*")}


def _referenced(data_dir: Path) -> set[str]:
    with sqlite3.connect(data_dir / "albumen.db") as db:
        rows = db.execute("SELECT sha256 FROM photos UNION SELECT sha256 FROM derivatives")
        return {row[0] for row in rows}


def test_kill_9_mid_upload_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = LiveServer(data_dir)
    key = server.cli("users", "add", "alice")
    server.start()
    acked: dict[str, str] = {}
    threads = [
        threading.Thread(target=_upload_until_killed, args=(server, key, acked, seed))
        for seed in range(4)
    ]
    for thread in threads:
        thread.start()
    while len(acked) < 12:
        time.sleep(0.05)
    server.kill()
    for thread in threads:
        thread.join(timeout=60)

    restarted = LiveServer(data_dir, ALBUMEN_SWEEP_GRACE_SECONDS="0")
    restarted.start()
    try:
        auth = {"Authorization": f"Bearer {key}"}
        for photo_id, sha in acked.items():
            original = requests.get(
                f"{restarted.url}/api/v1/photos/{photo_id}/original", headers=auth, timeout=30
            )
            assert original.status_code == 200, photo_id
            assert hashlib.sha256(original.content).hexdigest() == sha
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # pending jobs resume after the restart
            counts = requests.get(f"{restarted.url}/api/v1/jobs", headers=auth).json()["photos"]
            if counts["pending"] == counts["processing"] == 0:
                break
            time.sleep(0.2)
        assert counts["pending"] == counts["processing"] == 0
        assert counts["ready"] >= len(acked)
    finally:
        restarted.stop()
    restarted.cli("sweep")
    assert _blob_files(data_dir) <= _referenced(data_dir)  # no orphan blob is left
    assert not list((data_dir / "blobs" / ".staging").glob("*.part"))
