"""A real ``albumen serve`` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def eventually(check: Callable[[], bool], seconds: float = 60) -> bool:
    """Whether ``check()`` came true within ``seconds`` (a bound, not a speed asked for)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def wait_for_port(port: int, seconds: float) -> None:
    """Until something listens on the loopback port (``OSError`` after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class LiveServer:
    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {
            **os.environ,
            "ALBUMEN_DATA_DIR": str(data_dir),
            "ALBUMEN_PORT": str(self.port),
            "ALBUMEN_LOG_LEVEL": "WARNING",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.key = ""  # an API key, for the tests that make a user

    @property
    def auth(self) -> dict[str, str]:
        """The ``Authorization`` header of ``key``."""
        return {"Authorization": f"Bearer {self.key}"}

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "albumen", *args],
            env=self._env,
            capture_output=True,
            check=True,
            timeout=120,
        )
        return done.stdout.decode().strip()

    def start(self) -> None:
        log = self.data_dir.parent / f"serve-{self.port}.log"
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "albumen", "serve"],
                env=self._env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        answer = "no answer"
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                response = requests.get(f"{self.url}/readyz", timeout=2)
                if response.status_code == 200:
                    return
                answer = f"{response.status_code} {response.text}"
            except requests.RequestException as err:  # not listening yet, or busy starting
                answer = str(err)
            time.sleep(0.1)
        self.kill_if_running()
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"albumen serve did not become ready ({answer}); its log:\n{tail}")

    def kill_if_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


class LiveWorker:
    """A real ``albumen worker`` process (its children too), logging to ``log``."""

    def __init__(self, data_dir: Path, env: dict[str, str], workers: int = 1) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / "worker.log"
        self._env = {**LiveServer(data_dir)._env, **env}
        self._workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LiveWorker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "albumen", "worker", "--workers", str(self._workers)],
                env=self._env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def kill(self) -> None:
        """SIGKILL to the worker and every process under it at once, as when its machine
        loses power (killing the parent alone lets its children stop gracefully)."""
        assert self.process is not None
        parent = psutil.Process(self.process.pid)
        for process in [parent, *parent.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.process.wait(timeout=10)

    def records(self) -> list[dict[str, object]]:
        """Its log's JSON records (``ALBUMEN_LOG_JSON=true``)."""
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]
