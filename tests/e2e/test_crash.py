"""kill -9 the server while uploads are in flight, a tier mover mid-move, a worker
mid-processing: nothing acknowledged is lost, no orphans, and the work resumes."""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.conftest import make_jpeg
from tests.live import LiveServer, LiveWorker

pytestmark = pytest.mark.slow
ALBUMEN = [sys.executable, "-m", "albumen"]


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


def test_kill_9_during_a_tier_move_loses_nothing_and_the_move_resumes(tmp_path: Path) -> None:
    data_dir, warm = tmp_path / "data", tmp_path / "warm"
    env = {
        "ALBUMEN_DATA_DIR": str(data_dir),
        "ALBUMEN_WARM_STORAGE_URL": warm.as_uri(),
        "ALBUMEN_ANALYSIS": "false",
        "ALBUMEN_LOG_LEVEL": "WARNING",
    }
    folder = tmp_path / "camera"
    folder.mkdir()
    for n in range(24):  # 4 MB each (bytes after the image's end): the move takes a while
        padding = random.Random(n).randbytes(4 * 1024 * 1024)
        (folder / f"IMG_{n}.jpg").write_bytes(make_jpeg(640, 480, seed=n) + padding)
    subprocess.run([*ALBUMEN, "users", "add", "alice"], env=os.environ | env, check=True)
    subprocess.run(
        [*ALBUMEN, "import", str(folder), "--user", "alice"],
        env=os.environ | env,
        check=True,
        capture_output=True,
    )
    with sqlite3.connect(data_dir / "albumen.db") as db:
        originals = {row[0] for row in db.execute("SELECT sha256 FROM photos")}
        db.execute("UPDATE blob_tiers SET read_at = datetime('now', '-40 days')")

    mover = subprocess.Popen([*ALBUMEN, "tiers", "move"], env=os.environ | env)
    deadline = time.monotonic() + 60
    while not list(warm.glob("??/??/*")) and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    mover.send_signal(signal.SIGKILL)
    mover.wait()

    def copies() -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for tier, root in (("hot", data_dir / "blobs"), ("warm", warm)):
            for path in root.glob("??/??/*"):
                if path.name in originals:
                    assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
                    found.setdefault(path.name, set()).add(tier)
        return found

    cut_short = copies()
    assert set(cut_short) == originals  # every original is whole, somewhere
    assert any(tiers == {"warm"} for tiers in cut_short.values())  # some moved
    assert any("hot" in tiers for tiers in cut_short.values())  # and some had not

    subprocess.run([*ALBUMEN, "tiers", "move"], env=os.environ | env, check=True)
    assert copies() == {sha: {"warm"} for sha in originals}
    with sqlite3.connect(data_dir / "albumen.db") as db:
        rows = db.execute("SELECT tier, moving_to FROM blob_tiers").fetchall()
    assert rows == [("warm", None)] * len(originals)


def test_kill_9_of_a_worker_mid_processing_loses_nothing_and_a_new_one_finishes(
    tmp_path: Path, postgres_url: str, redis_url: str, s3_endpoint: str
) -> None:
    """The scale world as deployed (PostgreSQL, Redis, S3; an API and a worker apart): the
    worker and every process under it are killed at once while photos are being processed.
    The photos they had claimed stayed ``processing`` for the 15 minutes of the lease: their
    claimers were zombies (dead, not yet collected by init), which the check took for alive.
    The next worker's start-up recovery frees them now and every acknowledged photo is done."""
    env = {
        "ALBUMEN_DATABASE_URL": postgres_url,
        "ALBUMEN_REDIS_URL": redis_url,
        "ALBUMEN_STORAGE_URL": f"s3://albumen-worker-crash?endpoint_url={s3_endpoint}",
        "ALBUMEN_RUN_WORKERS_IN_SERVER": "false",
        "ALBUMEN_ANALYSIS": "false",
    }
    server = LiveServer(tmp_path / "api", **env)
    server.key = server.cli("users", "add", "alice")
    server.start()
    first = LiveWorker(tmp_path / "worker1", env, workers=2)
    second = LiveWorker(tmp_path / "worker2", env, workers=2)
    try:
        acked: dict[str, bytes] = {}
        for n in range(24):  # large enough that processing them all takes a while
            data = make_jpeg(2400, 1800, seed=n)
            response = requests.post(
                f"{server.url}/api/v1/photos",
                headers=server.auth,
                files={"file": (f"{n}.jpg", data)},
                timeout=60,
            )
            assert response.status_code == 201, response.text
            acked[response.json()["id"]] = data

        def counts() -> dict[str, int]:
            jobs = requests.get(f"{server.url}/api/v1/jobs", headers=server.auth, timeout=30)
            return dict(jobs.json()["photos"])

        first.start()
        deadline = time.monotonic() + 120
        while counts()["ready"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.kill()
        cut_short = counts()
        assert cut_short["ready"] < len(acked), cut_short  # killed before it was done
        assert cut_short["processing"] >= 1, cut_short  # claims held by the dead processes

        second.start()
        deadline = time.monotonic() + 240
        while (now := counts())["ready"] < len(acked) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert now["ready"] == len(acked), now
        assert now["failed"] == now["pending"] == now["processing"] == 0
        for photo_id, sent in acked.items():
            url = f"{server.url}/api/v1/photos/{photo_id}"
            original = requests.get(f"{url}/original", headers=server.auth, timeout=30)
            assert original.content == sent
            thumb = requests.get(f"{url}/thumbnail", headers=server.auth, timeout=30)
            assert thumb.status_code == 200
            Image.open(io.BytesIO(thumb.content)).load()
    finally:
        for worker in (first, second):
            if worker.process is not None and worker.process.poll() is None:
                worker.kill()
        server.stop()
