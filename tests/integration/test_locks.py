"""Named locks (threads here, Redis across processes) and concurrent uploads of one file."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from albumen.adapters.system import LocalLocks, RedisLocks
from albumen.app.root import build
from albumen.app.services import Services
from albumen.config import Secret, Settings
from albumen.ports import Locks
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.live import free_port


@pytest.fixture(params=["local", "redis"])
def locks(request: pytest.FixtureRequest) -> Locks:
    if request.param == "local":
        return LocalLocks()
    return RedisLocks(Redis.from_url(request.getfixturevalue("redis_url")), timeout=10)


def test_one_holder_at_a_time_per_name(locks: Locks) -> None:
    inside, most = 0, 0
    guard = threading.Lock()

    def work(name: str) -> None:
        nonlocal inside, most
        with locks.hold(name):
            with guard:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)
            with guard:
                inside -= 1

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, ["same"] * 8))
    assert most == 1
    most = 0
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, [f"name-{n}" for n in range(8)]))
    assert most > 1  # different names do not wait for each other


def test_without_redis_the_block_still_runs() -> None:
    down = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    locks = RedisLocks(down, timeout=1)
    ran = []
    with locks.hold("x"):
        ran.append(True)
    assert ran == [True]


def test_concurrent_uploads_of_one_file_make_one_photo(services: Services) -> None:
    owner = services.users.add("alice").user.id
    data = make_jpeg(seed=9)

    def upload(_: int) -> tuple[str, bool]:
        writer = services.photos.stage()
        writer.write(data)
        result = services.photos.ingest(owner, "same.jpg", writer.finish())
        return result.photo.id, result.duplicate

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(upload, range(8)))
    assert len({photo_id for photo_id, _ in results}) == 1
    assert sorted(duplicate for _, duplicate in results) == [False] + [True] * 7


def test_with_redis_down_an_upload_is_kept_and_processed_once_the_queue_is_back(
    tmp_path: Path, redis_url: str
) -> None:
    """The queue's Redis unreachable: the upload is still stored and acknowledged (pending),
    /readyz names the queue, and the recovery queues the photo once Redis answers again."""
    down = Settings(
        data_dir=tmp_path / "data",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        run_workers_in_server=False,
        analysis=False,
    )
    built = build(down)
    key = built.services.users.add("alice").secret
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(down, built)) as client:
        stored = upload(client, auth, make_jpeg(seed=4))
        assert stored.status_code == 201
        assert stored.json()["status"] == "pending"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "queue" in ready.json()["failing"]
    built.close()
    back = build(down.model_copy(update={"redis_url": Secret(redis_url)}))
    try:
        assert (
            back.services.processing.recover() == 1
        )  # as at a start, or the hourly job on an empty queue
        back.infrastructure.queue.run_pending()
        assert (
            back.services.photos.get(
                back.services.users.by_name("alice").id, stored.json()["id"]
            ).status.value
            == "ready"
        )
    finally:
        back.close()
