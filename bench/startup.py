"""How fast the CLI starts and how light an idle server is (``python -m bench.startup``).

Each figure is the median of ``BENCH_REPEATS`` whole processes, with the interpreter's own
start (``python -c pass``) measured beside them as the floor. The import time is
``python -X importtime``'s total for ``albumen.cli``. Targets: ``--help`` and ``config show``
under 0.4 s, ``users add`` under 1 s, ``serve`` to ``/readyz`` under 2 s, an idle server under
150 MB resident.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import requests
from tests.live import free_port

REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
BIN = Path(sys.executable).parent
TARGETS_S = {"help": 0.4, "config_show": 0.4, "users_add": 1.0, "serve_ready": 2.0}
TARGET_IDLE_RSS_MB = 150


def _median_s(run: Callable[[int], float]) -> float:
    run(-1)  # a warm-up: the files are in the page cache, as on any second run
    return round(statistics.median(run(n) for n in range(REPEATS)), 3)


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def import_ms(module: str) -> float:
    """``-X importtime``'s cumulative microseconds of ``module``, in ms (median)."""

    def once(_n: int) -> float:
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        line = next(line for line in reversed(out.splitlines()) if line.endswith(f"| {module}"))
        return int(line.split("|")[1]) / 1000

    return _median_s(once)


def _serve_once(env: dict[str, str]) -> tuple[float, float]:
    """Seconds from ``albumen serve`` started to ``/readyz`` 200, and its resident MB once idle."""
    port = free_port()
    start = time.perf_counter()
    server = subprocess.Popen(
        [str(BIN / "albumen"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.perf_counter() - start > 60:
                raise RuntimeError("albumen serve was not ready in 60 s")
            time.sleep(0.01)
        ready = time.perf_counter() - start
        time.sleep(3)  # idle: the start-up jobs ran
        rss = psutil.Process(server.pid).memory_info().rss / 2**20
    finally:
        server.terminate()
        server.wait(30)
    return ready, rss


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ALBUMEN_DATA_DIR": str(Path(tmp) / "data")}
        albumen = str(BIN / "albumen")
        subprocess.run([albumen, "migrate"], env=env, check=True, capture_output=True)
        seconds = {
            "python_bare": _median_s(lambda _n: _timed([sys.executable, "-c", "pass"], env)),
            "help": _median_s(lambda _n: _timed([albumen, "--help"], env)),
            "config_show": _median_s(lambda _n: _timed([albumen, "config", "show"], env)),
            "users_add": _median_s(lambda n: _timed([albumen, "users", "add", f"u{n + 1}"], env)),
        }
        served = [_serve_once(env) for _ in range(REPEATS)]
    seconds["serve_ready"] = round(statistics.median(s for s, _ in served), 3)
    rss = round(statistics.median(r for _, r in served), 1)
    return {
        "seconds": seconds,
        "targets_s": TARGETS_S,
        "met": {name: seconds[name] < limit for name, limit in TARGETS_S.items()},
        "import_ms": {"albumen.cli": import_ms("albumen.cli")},
        "idle_serve_rss_mb": rss,
        "idle_rss_target_mb": TARGET_IDLE_RSS_MB,
        "over_bare_python": {
            name: round(value / seconds["python_bare"], 1)
            for name, value in seconds.items()
            if name != "python_bare"
        },
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
