"""Run a load scenario: a server (started here, or given), accounts, photos, Locust, a report.

Locust runs headless in its own process (it patches the standard library with gevent), reads
its plan from a JSON file, and writes CSV files that ``report`` reads back.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from albumen.adapters.monitor import Snapshot
from albumen.loadtest.files import unique
from albumen.loadtest.report import chart, operations, report, server_figures

SCENARIOS = {"peak_upload": "PeakUpload", "global_read": "GlobalRead"}
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
QUERIES = ["dog", "beach", "after:2015", "camera:canon", "is:favorite", "has:location", "trip"]
READY_TIMEOUT = 60.0


@dataclass
class LoadTest:
    scenario: str
    users: int
    duration: int  # seconds
    out: Path
    host: str | None = None
    keys: list[str] = field(default_factory=list)
    accounts: int = 4
    seed_photos: int = 40
    upload_mb: float = 5.0
    photos_dir: Path | None = None
    ramp: int | None = None  # seconds to reach all users; default a quarter of the run


def run(test: LoadTest) -> dict[str, Any]:
    if test.scenario not in SCENARIOS:
        raise ValueError(f"the scenarios are: {', '.join(SCENARIOS)}")
    test.out.mkdir(parents=True, exist_ok=True)
    with _server(test) as (host, keys), tempfile.TemporaryDirectory() as scratch:
        _wait_ready(host)
        samples = upload_samples(Path(scratch), test.upload_mb, test.photos_dir)
        accounts = [
            {"key": key, "photos": seed(host, key, samples, test.seed_photos)} for key in keys
        ]
        plan = test.out / "plan.json"
        plan.write_text(
            json.dumps(
                {"accounts": accounts, "uploads": [str(s) for s in samples], "queries": QUERIES}
            )
        )
        before = scrape(host, keys[0])
        started = time.time()
        _locust(test, host, plan)
        after = scrape(host, keys[0])
    ops, overall = operations(test.out / "locust_stats.csv")
    server = server_figures(before, after) if before and after else {}
    settings = {
        "host": test.host or "started here on a temporary data dir",
        "users": test.users,
        "duration_s": test.duration,
        "ramp_s": _ramp(test),
        "accounts": len(keys),
        "seed_photos_per_account": test.seed_photos,
        "upload_mb": test.upload_mb,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
    }
    result = report(test.scenario, settings, ops, overall, server)
    (test.out / "report.json").write_text(json.dumps(result, indent=2))
    chart(
        test.out / "locust_stats_history.csv",
        test.out / "latency.png",
        f"{test.scenario}: {test.users} users, {test.duration} s",
    )
    return result


def _ramp(test: LoadTest) -> int:
    return test.ramp if test.ramp is not None else max(test.duration // 4, 1)


def _locust(test: LoadTest, host: str, plan: Path) -> None:
    spawn_rate = max(test.users / _ramp(test), 0.1)
    command = [
        sys.executable, "-m", "locust",
        "-f", str(LOCUSTFILE), SCENARIOS[test.scenario],
        "--headless", "--only-summary",
        "--users", str(test.users),
        "--spawn-rate", f"{spawn_rate:.3f}",
        "--run-time", f"{test.duration}s",
        "--stop-timeout", "10",
        "--host", host,
        "--csv", str(test.out / "locust"), "--csv-full-history",
        "--loglevel", "WARNING",
        "--exit-code-on-error", "0",  # failures are counted in the report, not an exit code
    ]  # fmt: skip
    env = os.environ | {"ALBUMEN_LOADTEST_PLAN": str(plan)}
    with (test.out / "locust.log").open("w") as log:
        subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)


@contextmanager
def _server(test: LoadTest) -> Iterator[tuple[str, list[str]]]:
    """The host and API keys to use: the given ones, or a fresh server's (first: an admin)."""
    if test.host:
        if not test.keys:
            raise ValueError("--host needs --key (an admin's first, for the server figures)")
        yield test.host.rstrip("/"), test.keys
        return
    with tempfile.TemporaryDirectory(prefix="albumen-loadtest-") as data_dir:
        port = _free_port()
        env = os.environ | {
            "ALBUMEN_DATA_DIR": data_dir,
            "ALBUMEN_PORT": str(port),
            "ALBUMEN_LOG_LEVEL": "WARNING",
        }
        keys = [_cli(env, "users", "add", f"load{n}") for n in range(max(test.accounts, 1))]
        with (test.out / "server.log").open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "albumen", "serve"], env=env, stdout=log, stderr=log
            )
        try:
            yield f"http://127.0.0.1:{port}", keys
        finally:
            server.terminate()
            server.wait(timeout=30)


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "albumen", *args], env=env, capture_output=True, check=True
    )
    return done.stdout.decode().strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(host: str) -> None:
    """``/readyz`` answers 200 before any load (it names what is not reachable otherwise)."""
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{host}/readyz", timeout=2)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text}"
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{host} is not ready: {last}")


def upload_samples(folder: Path, megabytes: float, photos_dir: Path | None) -> list[Path]:
    """JPEGs of about ``megabytes`` each: real photos enlarged to that size when a folder of
    them is given (their content, camera noise and EXIF kept), else made-up ones."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted(photos_dir.glob("*.jp*g")) if photos_dir else []
    images: list[tuple[str, Image.Image, bytes]] = []
    for source in sources:
        try:
            with Image.open(source) as opened:
                exif = opened.info.get("exif", b"")
                images.append((source.stem, opened.convert("RGB"), exif))
        except (OSError, ValueError):
            continue  # the folder's broken files are for other tests
    if not images:
        images = [(f"made{n}", _made_up(n), b"") for n in range(4)]
    samples = []
    for name, image, metadata in images[:12]:
        path = folder / f"{name}.jpg"
        path.write_bytes(_about(image, metadata, int(megabytes * 1024 * 1024)))
        samples.append(path)
    return samples


def _made_up(seed: int) -> Image.Image:
    size = (1600, 1200)
    noise = Image.effect_noise(size, 40 + seed)
    gradient = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (noise, gradient, gradient.rotate(90)))


def _about(image: Image.Image, exif: bytes, target: int) -> bytes:
    first = _jpeg(image, exif)
    scale = (target / max(len(first), 1)) ** 0.5
    width, height = (max(int(side * scale), 16) for side in image.size)
    return _jpeg(image.resize((width, height), Image.Resampling.LANCZOS), exif)


def _jpeg(image: Image.Image, exif: bytes) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue()


def seed(host: str, key: str, samples: list[Path], count: int) -> list[str]:
    """Upload ``count`` photos for the account and wait until they are processed."""
    auth = {"Authorization": f"Bearer {key}"}
    ids = []
    for n in range(count):
        data = unique(samples[n % len(samples)].read_bytes())
        answer = requests.post(
            f"{host}/api/v1/photos",
            headers=auth,
            files={"file": (f"seed{n}.jpg", data)},
            timeout=120,
        )
        answer.raise_for_status()
        ids.append(str(answer.json()["id"]))
    deadline = time.monotonic() + 60 + count * 5
    waiting = set(ids)
    while waiting and time.monotonic() < deadline:
        for photo_id in list(waiting):
            status = requests.get(f"{host}/api/v1/photos/{photo_id}", headers=auth, timeout=10)
            if status.json().get("status") in ("ready", "failed"):
                waiting.discard(photo_id)
        time.sleep(0.2)
    if waiting:
        raise RuntimeError(f"{len(waiting)} seed photos were not processed in time")
    return ids


def scrape(host: str, key: str) -> Snapshot | None:
    """The server's metrics now, or None when the key may not read them (not an admin)."""
    answer = requests.get(f"{host}/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    if answer.status_code != 200:
        return None
    values: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            values.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return Snapshot(time.monotonic(), values)
