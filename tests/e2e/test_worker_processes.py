"""``albumen worker``'s processes stand and fall together (#21, item 14).

Killing one child of ``albumen worker`` left three worker processes running for an hour,
ignoring SIGTERM. Now when any child ends, the others are stopped and the command exits with
a failure (a service manager starts a whole worker again), and every worker process dies with
the process that started it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.live import eventually

pytestmark = pytest.mark.slow
QUEUES = 3  # media, analysis, upkeep: one child each
WORKERS = 2  # huey worker processes per child


def test_killing_one_child_ends_every_worker_process(tmp_path: Path) -> None:
    env = os.environ | {
        "ALBUMEN_DATA_DIR": str(tmp_path / "data"),
        "ALBUMEN_LOG_LEVEL": "WARNING",
        "ALBUMEN_ANALYSIS": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "albumen", "worker", "--workers", str(WORKERS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        parent = psutil.Process(worker.pid)
        assert eventually(lambda: len(parent.children(recursive=True)) >= QUEUES * (1 + WORKERS)), (
            parent.children(recursive=True)
        )
        everyone = parent.children(recursive=True)
        children = parent.children()
        os.kill(children[0].pid, signal.SIGKILL)

        assert eventually(lambda: worker.poll() is not None), "albumen worker went on"
        assert worker.returncode == 128 + signal.SIGKILL
        assert eventually(lambda: not [p for p in everyone if _alive(p)]), [
            p.pid for p in everyone if _alive(p)
        ]
    finally:
        if worker.poll() is None:
            worker.kill()


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
