"""``albumen serve`` in its own process, for benchmarks that go through HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests


class Server:
    """``albumen serve`` in its own process, exactly as a user starts it."""

    def __init__(self, data_dir: Path) -> None:
        self.port = 18765
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ALBUMEN_DATA_DIR": str(data_dir),
            "ALBUMEN_PORT": str(self.port),
            "ALBUMEN_RUN_WORKERS_IN_SERVER": "false",
            "ALBUMEN_LOG_LEVEL": "WARNING",
        }

    def __enter__(self) -> Server:
        self.process = subprocess.Popen([sys.executable, "-m", "albumen", "serve"], env=self.env)
        for _ in range(300):
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("albumen serve did not start")

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def rss_mb(self) -> dict[str, float]:
        """The server's resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        return {
            name: round(int(fields[key].split()[0]) / 1024, 1)
            for name, key in (("now", "VmRSS"), ("peak", "VmHWM"))
        }
