"""What ``albumen serve`` says about its data folder (#21, items 16 and 17): a read-only one
is one line, not a traceback; a second server on one embedded data folder is refused, naming
the first (the embedded world's caches and locks live in one process)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.live import LiveServer, free_port

pytestmark = pytest.mark.slow


def _albumen(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = os.environ | {"ALBUMEN_DATA_DIR": str(data_dir), "ALBUMEN_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "albumen", *args],
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A small file system of its own, remounted read-only once the test has filled it."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)])
    if made.returncode != 0:
        pytest.skip("mounting a file system needs root (the unit test covers the check)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_read_only_data_dir_is_one_line_not_a_traceback(read_only: Path) -> None:
    data_dir = read_only / "data"
    assert _albumen(data_dir, "users", "add", "alice").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(read_only)], check=True)

    for args in (("serve", "--port", str(free_port())), ("users", "add", "bob")):
        done = _albumen(data_dir, *args)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("error: ")
        assert str(data_dir) in line
        assert "read-only" in line


def test_a_second_server_on_one_data_dir_is_refused(tmp_path: Path) -> None:
    first = LiveServer(tmp_path / "data")
    first.start()
    try:
        assert first.process is not None
        second = _albumen(tmp_path / "data", "serve", "--port", str(free_port()))
        assert second.returncode == 2, second.stderr
        (line,) = second.stderr.strip().splitlines()
        assert line.startswith("error: another albumen serve")
        assert f"pid {first.process.pid}" in line
        assert requests.get(f"{first.url}/readyz", timeout=10).status_code == 200
    finally:
        first.stop()
    # once the first has stopped, the folder is free again
    again = LiveServer(tmp_path / "data")
    again.start()
    again.stop()
