"""The cache hierarchy against a real Redis: L1 per process, L2 shared, and Redis going away."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from redis import Redis

from albumen.adapters.queue import HueyJobQueue
from albumen.app.root import Albumen, build
from albumen.app.services import Services
from albumen.config import Settings
from albumen.domain.errors import RateLimited, Unauthorized
from albumen.web import create_app
from tests.conftest import make_jpeg, upload


def _sample(registry: CollectorRegistry, name: str, level: str) -> float:
    return registry.get_sample_value(name, {"level": level}) or 0.0


@pytest.fixture
def settings(tmp_path: Path, redis_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        redis_url=redis_url,
        run_workers_in_server=False,
        job_retries=0,
        analysis=False,
        cache_ttl_seconds=600,
    )


@pytest.fixture
def second(settings: Settings) -> Iterator[Albumen]:
    """Another API process of the same library: its own L1, the same L2."""
    built = build(settings)
    yield built
    built.close()


def test_a_thumbnail_cached_by_one_process_is_an_l2_hit_in_another(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    queue: HueyJobQueue,
    second: Albumen,
    redis_url: str,
) -> None:
    photo = upload(client, auth, make_jpeg(seed=70)).json()
    queue.run_pending()
    url = f"/api/v1/photos/{photo['id']}/thumbnail"
    first = client.get(url, headers=auth | {"Accept": "image/webp"})
    assert first.status_code == 200
    keys = Redis.from_url(redis_url).keys("albumen:thumb:*")
    assert len(keys) == 1
    assert 590 <= Redis.from_url(redis_url).ttl(keys[0]) <= 600  # entries expire

    registry = second.operations.registry
    before = _sample(registry, "albumen_cache_hits_total", "l2")
    with TestClient(create_app(second.infrastructure.settings, second)) as other:
        again = other.get(url, headers=auth | {"Accept": "image/webp"})
        assert again.content == first.content
        assert _sample(registry, "albumen_cache_hits_total", "l2") == before + 1
        other.get(url, headers=auth | {"Accept": "image/webp"})  # now in its own L1
        assert _sample(registry, "albumen_cache_hits_total", "l2") == before + 1
        scraped = other.get("/metrics", headers=auth).text
    assert 'albumen_cache_capacity_bytes{level="l2"} 6.7108864e+07' in scraped
    assert 'albumen_cache_size_bytes{level="l2"}' in scraped


def test_without_redis_the_cache_steps_aside_and_requests_still_work(
    tmp_path: Path, redis_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        redis_url=redis_url,
        run_workers_in_server=False,
        analysis=False,
    )
    built = build(settings)
    try:
        with TestClient(create_app(settings, built)) as client:
            auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
            photo = upload(client, auth, make_jpeg(seed=71)).json()
            built.infrastructure.queue.run_pending()
            l2 = built.infrastructure.cache.l2  # type: ignore[attr-defined]  # layered with Redis
            l2._client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
            built.infrastructure.thumbnail_cache.clear()
            url = f"/api/v1/photos/{photo['id']}/thumbnail"
            served = client.get(url, headers=auth | {"Accept": "image/webp"})
            assert served.status_code == 200  # from the store: the cache is only a cache
            assert not l2.up
            errors = _sample(built.operations.registry, "albumen_cache_errors_total", "l2")
            assert errors == 1
            client.get(url, headers=auth | {"Accept": "image/webp"})
            assert _sample(built.operations.registry, "albumen_cache_errors_total", "l2") == errors
    finally:
        built.close()


def test_sign_in_limits_hold_across_processes_through_redis(settings: Settings) -> None:
    limited = settings.model_copy(update={"sign_in_attempts": "3 per minute"})
    one, two = build(limited), build(limited)
    try:
        one.services.users.add("carol")
        one.services.users.set_password("carol", "the right one")
        for _ in range(3):
            with pytest.raises(Unauthorized):
                one.services.users.sign_in("carol", "wrong", "10.0.0.9")
        with pytest.raises(RateLimited):  # the other process counts the same tries
            two.services.users.sign_in("carol", "the right one", "10.0.0.9")
        assert two.services.users.sign_in(
            "carol", "the right one", "10.0.0.10"
        ).session.user.name == ("carol")  # another client is not held back
    finally:
        one.close()
        two.close()
