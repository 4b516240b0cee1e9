"""The scale-out world as deployed: 2 API processes and 2 worker processes sharing PostgreSQL,
Redis and S3 (all on 127.0.0.1), each with a data dir of its own (no shared local state).

500 concurrent uploads, a fifth of them copies of the others racing their originals, end with
one photo per distinct file, each processed exactly once, no job left, no object in the bucket
that no row refers to; then every process stops gracefully on SIGTERM.
"""

from __future__ import annotations

import pickle
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
import requests
from redis import Redis
from sqlalchemy import Engine, create_engine, text

from albumen.adapters.queue import HUEY_NAMES
from tests.conftest import make_jpeg
from tests.live import LiveServer, LiveWorker

pytestmark = pytest.mark.slow

DISTINCT = 400
COPIES = 100
BUCKET = "albumen-scale-out"


@pytest.fixture
def environment(postgres_url: str, redis_url: str, s3_endpoint: str) -> dict[str, str]:
    return {
        "ALBUMEN_DATABASE_URL": postgres_url,
        "ALBUMEN_REDIS_URL": redis_url,
        "ALBUMEN_STORAGE_URL": f"s3://{BUCKET}?endpoint_url={s3_endpoint}&region=us-east-1",
        "ALBUMEN_RUN_WORKERS_IN_SERVER": "false",
        "ALBUMEN_ANALYSIS": "false",
        "ALBUMEN_LOG_LEVEL": "INFO",
        "ALBUMEN_LOG_JSON": "true",
        "ALBUMEN_DATABASE_POOL_MAX_OPEN": "20",
    }


@pytest.fixture
def servers(tmp_path: Path, environment: dict[str, str]) -> Iterator[list[LiveServer]]:
    apis = [LiveServer(tmp_path / f"api{n}", **environment) for n in (1, 2)]
    yield apis
    for api in apis:
        api.kill_if_running()


def test_two_apis_and_two_workers_take_500_concurrent_uploads(
    tmp_path: Path, servers: list[LiveServer], environment: dict[str, str], s3_endpoint: str
) -> None:
    key = servers[0].cli("users", "add", "alice")
    for api in servers:
        api.start()
    workers = [LiveWorker(tmp_path / f"worker{n}", environment).start() for n in (1, 2)]
    try:
        files = [make_jpeg(64 + n % 20, 48 + n // 20, seed=n) for n in range(DISTINCT)]
        uploads = list(range(DISTINCT)) + random.Random(5).sample(range(DISTINCT), COPIES)
        random.Random(6).shuffle(uploads)
        auth = {"Authorization": f"Bearer {key}"}

        def send(turn: tuple[int, int]) -> tuple[int, int, str]:
            n, file = turn
            api = servers[n % 2]
            response = requests.post(
                f"{api.url}/api/v1/photos",
                headers=auth,
                files={"file": (f"{file}.jpg", files[file])},
                timeout=120,
            )
            return file, response.status_code, response.json().get("id", response.text)

        with ThreadPoolExecutor(32) as pool:
            answers = list(pool.map(send, enumerate(uploads)))

        assert {status for _, status, _ in answers} <= {200, 201}, answers[:5]
        ids_by_file: dict[int, set[str]] = {}
        for file, _, photo_id in answers:
            ids_by_file.setdefault(file, set()).add(photo_id)
        assert all(len(ids) == 1 for ids in ids_by_file.values())  # a copy got its twin's id
        assert len({photo_id for _, _, photo_id in answers}) == DISTINCT

        engine = create_engine(environment["ALBUMEN_DATABASE_URL"])
        statuses = _wait_until_processed(engine)
        assert statuses == {"ready": DISTINCT}

        # The queue drains: a worker that started while uploads came in queued the photos
        # it found pending again (its start-up recovery); those copies find them claimed.
        redis = Redis.from_url(environment["ALBUMEN_REDIS_URL"])
        lists = [f"huey.redis.{name}" for name in HUEY_NAMES.values()]
        deadline = time.monotonic() + 120
        while sum(redis.llen(name) for name in lists) and time.monotonic() < deadline:
            time.sleep(0.5)
        queued = [m for name in lists for m in redis.lrange(name, 0, -1)]
        left = [pickle.loads(m) for m in queued if isinstance(m, bytes)]
        assert Counter(m.name for m in left) == {}

        processed = Counter(
            record["photo_id"] for worker in workers for record in worker.records() if
            record.get("message") == "photo processed"
        )  # fmt: skip
        assert len(processed) == DISTINCT
        assert set(processed.values()) == {1}  # each photo processed once, by one worker

        with engine.connect() as conn:
            referenced = set(conn.execute(text("SELECT sha256 FROM photos")).scalars())
            referenced |= set(conn.execute(text("SELECT sha256 FROM derivatives")).scalars())
            derivatives = conn.execute(text("SELECT count(*) FROM derivatives")).scalar()
        engine.dispose()
        assert derivatives == 2 * DISTINCT  # a thumbnail and a preview each
        assert _objects(s3_endpoint) == referenced  # nothing unreferenced, nothing missing

        # No process keeps a state of its own: a share unlocked at one API opens at the other.
        share = requests.post(
            f"{servers[0].url}/api/v1/shares",
            headers=auth,
            json={"photo_id": answers[0][2], "password": "sesame"},
            timeout=30,
        ).json()
        unlock = requests.post(
            f"{servers[0].url}/s/{share['token']}/unlock", json={"password": "sesame"}, timeout=30
        ).json()["unlock"]
        opened = requests.get(
            f"{servers[1].url}/s/{share['token']}", headers={"X-Share-Unlock": unlock}, timeout=30
        )
        assert opened.status_code == 200, opened.text
    finally:
        processes = [*(api.process for api in servers), *(w.process for w in workers)]
        for process in processes:
            assert process is not None
            process.send_signal(signal.SIGTERM)
        stopped = [process.wait(timeout=60) for process in processes if process is not None]
    # Workers exit 0; uvicorn, once shut down, raises the SIGTERM it caught again (so that its
    # parent sees it), after its log says the application shut down cleanly.
    assert stopped == [-signal.SIGTERM, -signal.SIGTERM, 0, 0]
    for api in servers:
        log = api.data_dir.parent / f"serve-{api.port}.log"
        assert "Application shutdown complete." in log.read_text()


def _wait_until_processed(engine: Engine, seconds: float = 240) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    while True:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, count(*) FROM photos GROUP BY status"))
            statuses = {status: int(count) for status, count in rows}
        if set(statuses) == {"ready"} or time.monotonic() > deadline:
            return statuses
        time.sleep(0.5)


def _objects(endpoint: str) -> set[str]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    found = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="blobs/"):
        for item in page.get("Contents", []):
            name = item["Key"].rsplit("/", 1)[-1]
            if len(name) == 64:  # blobs/ab/cd/<sha256>; sidecars live elsewhere
                found.add(name)
    return found
