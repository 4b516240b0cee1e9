"""Fault injection: the database, Redis and the object store of the scale world go away and
come back (#21).

While one is away, every request that needs it answers at once a 503 with a code that says
which (``database_unavailable``, ``storage_unavailable``), never a bug's 500 and never a
request held for as long as the kernel waits; readiness names it; nothing acknowledged before
is lost, a photo whose processing met the outage waits and is processed once it is back, and
the same app serves again without a restart. After each, ``assert_intact`` checks every
acknowledged photo: ready, its original byte for byte, its thumbnail an image.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import event

from albumen.app.root import build
from albumen.config import Settings
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.faults import FaultyLine, faulty_line
from tests.live import eventually, free_port, wait_for_port
from tests.postgres import PostgresCluster, started_cluster


def scale_settings(tmp_path: Path, database: str, redis: str, s3_endpoint: str) -> Settings:
    """The scale world on these servers, with a bucket of its own; jobs are run by the test."""
    bucket = f"albumen-{uuid.uuid4().hex[:12]}"
    return Settings(
        data_dir=tmp_path / "data",
        run_workers_in_server=False,
        analysis=False,
        job_retries=0,
        database_url=database,
        redis_url=redis,
        storage_url=f"s3://{bucket}?endpoint_url={s3_endpoint}&region=us-east-1",
    )


def assert_intact(client: TestClient, auth: dict[str, str], acked: dict[str, bytes]) -> None:
    """Every acknowledged photo (id to the bytes sent) is ready, whole, with its thumbnail."""
    for photo_id, sent in acked.items():
        shown = client.get(f"/api/v1/photos/{photo_id}", headers=auth)
        assert shown.status_code == 200, shown.text
        assert shown.json()["status"] == "ready", shown.json()
        original = client.get(f"/api/v1/photos/{photo_id}/original", headers=auth)
        assert original.status_code == 200, original.text
        assert original.content == sent
        thumb = client.get(f"/api/v1/photos/{photo_id}/thumbnail", headers=auth)
        assert thumb.status_code == 200, thumb.text
        Image.open(io.BytesIO(thumb.content)).load()


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own, which it may stop and start (the session's cluster
    serves every other test's database)."""
    cluster = started_cluster()
    cluster.execute("CREATE DATABASE albumen")
    yield cluster
    cluster.stop()


def test_postgresql_going_away_is_503_and_nothing_acknowledged_is_lost(
    own_postgres: PostgresCluster, redis_url: str, s3_endpoint: str, tmp_path: Path
) -> None:
    settings = scale_settings(tmp_path, own_postgres.url("albumen"), redis_url, s3_endpoint)
    built = build(settings)
    auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    with TestClient(create_app(settings, built)) as client:
        kept = upload(client, auth, make_jpeg(seed=41)).json()
        built.infrastructure.queue.run_pending()
        own_postgres.halt()
        for answer in (
            client.get("/api/v1/photos", headers=auth),
            client.get(f"/api/v1/photos/{kept['id']}", headers=auth),
            upload(client, auth, make_jpeg(seed=42)),
            client.get("/api/v1/search", headers=auth, params={"q": "beach"}),
        ):
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "database_unavailable"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "database" in ready.json()["failing"]
        own_postgres.start()
        after = upload(client, auth, make_jpeg(seed=43))
        assert after.status_code == 201
        built.infrastructure.queue.run_pending()
        assert_intact(
            client, auth, {kept["id"]: make_jpeg(seed=41), after.json()["id"]: make_jpeg(seed=43)}
        )
    built.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A redis-server of this test's own: its URL, and how to stop it and start it again."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; make test does)")
    port = free_port()
    arguments = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    arguments += ["--appendonly", "no", "--dir", str(tmp_path)]
    running: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        running.append(subprocess.Popen(arguments, stdout=subprocess.DEVNULL))
        wait_for_port(port, 10)

    def halt() -> None:
        process = running.pop()
        process.terminate()
        process.wait(timeout=10)

    start()
    yield f"redis://127.0.0.1:{port}/0", halt, start
    while running:
        halt()


def test_redis_going_away_keeps_uploads_and_reads_and_readiness_says_so(
    postgres_url: str,
    own_redis: tuple[str, Callable[[], None], Callable[[], None]],
    s3_endpoint: str,
    tmp_path: Path,
) -> None:
    """Redis carries the queue and the L2 cache: without it an upload is still acknowledged
    (its jobs wait in the database, and the recovery job queues them once Redis is back) and
    reads go on from the database; readiness names the queue."""
    url, halt, start = own_redis
    settings = scale_settings(tmp_path, postgres_url, url, s3_endpoint)
    built = build(settings)
    auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    with TestClient(create_app(settings, built)) as client:
        kept = upload(client, auth, make_jpeg(seed=51)).json()
        halt()
        during = upload(client, auth, make_jpeg(seed=52))
        assert during.status_code == 201, during.text
        assert client.get(f"/api/v1/photos/{kept['id']}", headers=auth).status_code == 200
        listed = client.get("/api/v1/photos", headers=auth).json()["items"]
        assert {p["id"] for p in listed} == {kept["id"], during.json()["id"]}
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "queue" in ready.json()["failing"]
        start()
        assert client.get("/readyz").status_code == 200
        built.services.processing.recover()  # what the hourly recovery job does
        built.infrastructure.queue.run_pending()
        assert_intact(
            client, auth, {kept["id"]: make_jpeg(seed=51), during.json()["id"]: make_jpeg(seed=52)}
        )
    built.close()


@pytest.fixture
def store_line(s3_endpoint: str) -> Iterator[FaultyLine]:
    """A line to the session's S3 endpoint that the test may cut, stall and restore."""
    with faulty_line(s3_endpoint) as line:
        yield line


def test_the_store_going_away_is_503_and_a_photo_it_interrupted_is_processed_once_back(
    postgres_url: str, redis_url: str, store_line: FaultyLine, tmp_path: Path
) -> None:
    """A photo whose processing met the outage waited as ``failed`` for good (the outage's
    ``Unavailable`` was taken for bad media); it is pending now, and processed once the store
    is back."""
    endpoint = f"http://{store_line.address}"
    settings = scale_settings(tmp_path, postgres_url, redis_url, endpoint)
    built = build(settings)
    queue = built.infrastructure.queue
    auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    with TestClient(create_app(settings, built)) as client:
        first = upload(client, auth, make_jpeg(seed=61)).json()
        queue.run_pending()
        waiting = upload(client, auth, make_jpeg(seed=62)).json()  # acknowledged, unprocessed
        store_line.cut()

        refused = upload(client, auth, make_jpeg(seed=63))
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "storage_unavailable"
        original = client.get(f"/api/v1/photos/{first['id']}/original", headers=auth)
        assert original.status_code == 503, original.text
        assert original.json()["error"]["code"] == "storage_unavailable"
        queue.run_pending()  # the waiting photo's processing meets the outage
        shown = client.get(f"/api/v1/photos/{waiting['id']}", headers=auth).json()
        assert shown["status"] == "pending", shown
        listed = client.get("/api/v1/photos", headers=auth).json()["items"]
        assert {p["id"] for p in listed} == {first["id"], waiting["id"]}  # nothing half kept
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["failing"] == ["blob_store"]

        store_line.restore()
        assert eventually(lambda: client.get("/readyz").status_code == 200)  # breaker closes
        built.services.processing.recover()  # what the hourly recovery job does
        queue.run_pending()
        again = upload(client, auth, make_jpeg(seed=63))
        assert again.status_code == 201, again.text
        queue.run_pending()
        acked = {first["id"]: 61, waiting["id"]: 62, again.json()["id"]: 63}
        assert_intact(client, auth, {i: make_jpeg(seed=seed) for i, seed in acked.items()})
    built.close()


def test_a_store_that_hangs_answers_503_in_bounded_time_and_a_slow_one_still_works(
    postgres_url: str, redis_url: str, store_line: FaultyLine, tmp_path: Path
) -> None:
    """An endpoint that takes connections and never answers held each request (an upload, an
    original, even ``/readyz``) for 150 s: botocore's 4 attempts of 30 s and its backoff. The
    timeouts are in the store's URL now, 3 attempts each bounded; readiness tries once, briefly.
    A slow store is no outage: uploads and reads over a slow line are kept whole."""
    endpoint = f"http://{store_line.address}&read_timeout=1&connect_timeout=1"
    settings = scale_settings(tmp_path, postgres_url, redis_url, endpoint)
    built = build(settings)
    queue = built.infrastructure.queue
    auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    with TestClient(create_app(settings, built)) as client:
        first = upload(client, auth, make_jpeg(seed=71)).json()
        queue.run_pending()
        store_line.stall()
        for call in (
            lambda: upload(client, auth, make_jpeg(seed=72)),
            lambda: client.get(f"/api/v1/photos/{first['id']}/original", headers=auth),
            lambda: client.get("/readyz"),
        ):
            started = time.monotonic()
            answer = call()
            # a bound far above 3 attempts of 1 s, and far below the 150 s it took: no hang
            assert time.monotonic() - started < 60
            assert answer.status_code == 503, answer.text
        assert answer.json()["failing"] == ["blob_store"]

        store_line.slow(0.05)  # each 16 KiB waits: a store on a slow disk, or far away
        assert eventually(lambda: client.get("/readyz").status_code == 200)  # breaker closes
        large = make_jpeg(1600, 1200, seed=73)
        slow = upload(client, auth, large)
        assert slow.status_code == 201, slow.text
        queue.run_pending()
        store_line.restore()
        assert_intact(client, auth, {first["id"]: make_jpeg(seed=71), slow.json()["id"]: large})
    built.close()


def test_a_database_held_by_a_slow_writer_is_503_busy_and_reads_go_on(tmp_path: Path) -> None:
    """The embedded world on a slow disk: another process's write holds SQLite's lock (its
    commit waiting on a slow fsync) longer than the busy timeout. A write answered 500
    ``internal_error`` ("database is locked"); it is 503 ``database_busy`` with Retry-After
    now, reads go on meanwhile (WAL), and once the disk has caught up everything is whole."""
    settings = Settings(
        data_dir=tmp_path / "data", run_workers_in_server=False, analysis=False, job_retries=0
    )
    built = build(settings)
    engine = built.infrastructure.engine

    @event.listens_for(engine, "connect")
    def _impatient(connection: sqlite3.Connection, _record: object) -> None:
        connection.execute("PRAGMA busy_timeout=200")  # 30 s in production: the test's time

    engine.dispose()
    auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    with TestClient(create_app(settings, built)) as client:
        kept = upload(client, auth, make_jpeg(seed=81)).json()
        built.infrastructure.queue.run_pending()
        slow_writer = sqlite3.connect(settings.data_dir / "albumen.db", isolation_level=None)
        slow_writer.execute("BEGIN IMMEDIATE")
        try:
            busy = upload(client, auth, make_jpeg(seed=82))
            assert busy.status_code == 503, busy.text
            assert busy.json()["error"]["code"] == "database_busy"
            assert int(busy.headers["Retry-After"]) >= 1
            listed = client.get("/api/v1/photos", headers=auth)
            assert [p["id"] for p in listed.json()["items"]] == [kept["id"]]
            original = client.get(f"/api/v1/photos/{kept['id']}/original", headers=auth)
            assert original.content == make_jpeg(seed=81)  # its read is noted another time
            webp = auth | {"Accept": "image/webp"}  # a browser's: the thumbnail already made
            for read in (f"/api/v1/photos/{kept['id']}/thumbnail", "/api/v1/search?q=p.jpg"):
                assert client.get(read, headers=webp).status_code == 200, read
        finally:
            slow_writer.rollback()
            slow_writer.close()
        after = upload(client, auth, make_jpeg(seed=82))
        assert after.status_code == 201, after.text
        built.infrastructure.queue.run_pending()
        acked = {kept["id"]: make_jpeg(seed=81), after.json()["id"]: make_jpeg(seed=82)}
        assert_intact(client, auth, acked)
    built.close()
