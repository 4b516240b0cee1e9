"""The CLI as a user runs it: users add, import (and a re-run that skips), config show."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import make_jpeg

pytestmark = pytest.mark.slow


def _albumen(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ALBUMEN_DATA_DIR": str(data_dir), "ALBUMEN_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "albumen", *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


def test_import_a_folder_then_rerun_skips_everything(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    folder = tmp_path / "camera" / "2024"
    folder.mkdir(parents=True)
    for n in range(6):
        (folder / f"IMG_{n}.jpg").write_bytes(make_jpeg(320, 240, seed=n))
    (folder / "IMG_0 copy.jpg").write_bytes((folder / "IMG_0.jpg").read_bytes())
    (folder / "notes.txt").write_text("not a photo")
    (folder / ".hidden.jpg").write_bytes(make_jpeg(seed=99))
    key = _albumen(data_dir, "users", "add", "alice").stdout.strip()
    assert key.startswith("alb_")

    first = _albumen(
        data_dir, "import", str(tmp_path / "camera"), "--user", "alice", "--process", check=False
    )
    assert first.returncode == 1  # one file failed, and the exit code says so
    assert "imported 6, duplicates 1, failed 1" in first.stdout
    assert "notes.txt" in first.stdout

    again = _albumen(data_dir, "import", str(tmp_path / "camera"), "--user", "alice", check=False)
    assert "imported 0, duplicates 7, failed 1" in again.stdout

    with sqlite3.connect(data_dir / "albumen.db") as db:
        names = {row[0] for row in db.execute("SELECT filename FROM photos")}
    assert names >= {f"IMG_{n}.jpg" for n in range(1, 6)}


def test_an_imported_photo_without_a_date_takes_its_files(tmp_path: Path) -> None:
    """Photos with no date inside piled up on the day of the import (#16): the file's
    modification time, in this machine's time zone, dates them now."""
    data_dir, folder = tmp_path / "data", tmp_path / "scans"
    folder.mkdir()
    scan = folder / "scan.jpg"
    scan.write_bytes(make_jpeg(320, 240, seed=5))  # no EXIF: no date inside
    when = datetime(2015, 6, 1, 12, 30).astimezone()  # noon, here
    os.utime(scan, (when.timestamp(), when.timestamp()))
    _albumen(data_dir, "users", "add", "alice")
    _albumen(data_dir, "import", str(folder), "--user", "alice", "--process")
    with sqlite3.connect(data_dir / "albumen.db") as db:
        local, source, status = db.execute(
            "SELECT taken_local, taken_source, status FROM photos"
        ).fetchone()
    assert status == "ready"
    assert local.startswith("2015-06-01 12:30:00")
    assert source.startswith("the file's modification time")

    shown = json.loads(_albumen(data_dir, "config", "show").stdout)
    assert shown["data_dir"] == str(data_dir)


def test_import_for_an_unknown_user_says_so(tmp_path: Path) -> None:
    result = _albumen(tmp_path / "data", "import", str(tmp_path), "--user", "nobody", check=False)
    assert result.returncode == 2
    assert "no user named 'nobody'" in result.stderr


def test_worker_processes_do_the_queued_work(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(4):
        (folder / f"{n}.jpg").write_bytes(make_jpeg(640, 480, seed=200 + n))
    _albumen(data_dir, "users", "add", "alice")
    _albumen(data_dir, "import", str(folder), "--user", "alice")
    assert _statuses(data_dir) == {"pending": 4}
    env = {**os.environ, "ALBUMEN_DATA_DIR": str(data_dir), "ALBUMEN_LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "albumen", "worker", "--workers", "2"], env=env
    )
    try:
        deadline = time.monotonic() + 60
        while _statuses(data_dir) != {"ready": 4} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _statuses(data_dir) == {"ready": 4}
    finally:
        worker.send_signal(signal.SIGINT)  # a graceful stop: running jobs finish first
        assert worker.wait(timeout=30) == 0


def _statuses(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "albumen.db") as db:
        return dict(db.execute("SELECT status, count(*) FROM photos GROUP BY status").fetchall())


@pytest.mark.parametrize(
    "args",
    [
        ("users", "key", "nobody"),
        ("users", "admin", "nobody"),
        ("users", "passwd", "nobody", "--password", "long enough"),
        ("users", "add", ""),
        ("import", ".", "--user", "nobody"),
    ],
)
def test_a_users_mistake_is_one_line_and_exit_2_never_a_traceback(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    done = _albumen(tmp_path / "data", *args, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_config_show_prints_no_credential(tmp_path: Path) -> None:
    from tests.unit.test_config import MARKED, MARKER

    environ = {
        f"ALBUMEN_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
        for name, value in MARKED.items()
    }
    env = {**os.environ, **environ, "ALBUMEN_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "albumen", "config", "show"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    shown = json.loads(done.stdout)
    assert MARKER not in done.stdout + done.stderr
    assert shown["database_replica_urls"] == ["postgresql+psycopg://app:***@replica/albumen"]
