"""The library with its blobs in S3 (moto's server): upload, serve, sidecars, scrub, a mirror
in a second bucket."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import text

from albumen.app.root import Albumen, build
from albumen.config import Settings
from albumen.domain.durability import SidecarKind
from albumen.web import create_app
from tests.conftest import make_jpeg, upload


@pytest.fixture
def settings(tmp_path: Path, s3_endpoint: str) -> Settings:
    def bucket(role: str) -> str:
        name = f"albumen-{role}-{uuid.uuid4().hex[:8]}"
        return f"s3://{name}?endpoint_url={s3_endpoint}&region=us-east-1"

    return Settings(
        data_dir=tmp_path / "data",
        storage_url=bucket("blobs"),
        mirror_url=bucket("mirror"),
        run_workers_in_server=False,
        job_retries=0,
        analysis=False,
    )


@pytest.fixture
def s3_world(settings: Settings) -> Iterator[Albumen]:
    built = build(settings)
    yield built
    built.close()


def test_photos_live_in_the_bucket_and_are_served_from_it(
    s3_world: Albumen, settings: Settings
) -> None:
    built = s3_world
    with TestClient(create_app(settings, built)) as client:
        auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
        data = make_jpeg(800, 600, seed=90)
        photo = upload(client, auth, data, "bucket.jpg").json()
        built.infrastructure.queue.run_pending()
        shown = client.get(f"/api/v1/photos/{photo['id']}", headers=auth).json()
        assert shown["status"] == "ready"
        original = client.get(f"/api/v1/photos/{photo['id']}/original", headers=auth)
        assert original.content == data
        part = client.get(
            f"/api/v1/photos/{photo['id']}/original", headers=auth | {"Range": "bytes=10-19"}
        )
        assert (part.status_code, part.content) == (206, data[10:20])
        thumb = client.get(
            f"/api/v1/photos/{photo['id']}/thumbnail", headers=auth | {"Accept": "image/webp"}
        )
        assert thumb.status_code == 200
        assert client.get("/readyz").json() == {"status": "ready", "failing": []}

        primary, mirror = built.infrastructure.stores.hot, built.infrastructure.stores.mirror
        assert mirror is not None
        sha = photo["sha256"]
        assert hashlib.sha256(mirror.read(sha)).hexdigest() == sha  # the second bucket has it
        assert built.services.scrub.scrub().findings == []

        primary.delete(sha)  # lost from the first bucket: read from the second, and healed
        built.infrastructure.thumbnail_cache.clear()
        again = client.get(f"/api/v1/photos/{photo['id']}/original", headers=auth)
        assert again.content == data
        assert primary.exists(sha)

        assert built.services.sidecars.flush() >= 2
        sidecars = dict(built.infrastructure.stores.sidecars.scan(SidecarKind.PHOTO))
        assert photo["id"] in sidecars  # beside the blobs, in the bucket


def test_tiers_are_storage_classes_and_a_glacier_original_is_restored(
    tmp_path: Path, s3_endpoint: str
) -> None:
    bucket = f"s3://albumen-tiers-{uuid.uuid4().hex[:8]}"
    query = f"endpoint_url={s3_endpoint}&region=us-east-1"
    settings = Settings(
        data_dir=tmp_path / "data",
        storage_url=f"{bucket}?{query}",
        warm_storage_url=f"{bucket}/warm?{query}&storage_class=STANDARD_IA",
        cold_storage_url=f"{bucket}/cold?{query}&storage_class=GLACIER",
        run_workers_in_server=False,
        job_retries=0,
        analysis=False,
        tier_latency_seconds={"cold": 60},
    )
    built = build(settings)
    try:
        with TestClient(create_app(settings, built)) as client:
            auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
            data = make_jpeg(640, 480, seed=91)
            photo = upload(client, auth, data, "old.jpg").json()
            built.infrastructure.queue.run_pending()
            with built.infrastructure.engine.begin() as conn:
                conn.execute(text("UPDATE blob_tiers SET read_at = datetime('now', '-400 days')"))
            copies: list[str] = []
            for store in built.infrastructure.stores.tiers.values():
                store.client.meta.events.register(  # type: ignore[attr-defined]  # an S3 store here
                    "before-call.s3.CopyObject", lambda **_: copies.append("copy")
                )
            assert built.services.tiers.run_lifecycle() == 2  # hot → warm → cold
            assert copies == ["copy", "copy"]  # by S3 itself: no byte came down to this machine
            s3 = built.infrastructure.stores.hot.client  # type: ignore[attr-defined]  # S3 here
            sha = photo["sha256"]
            head = s3.head_object(Bucket=bucket[5:], Key=f"cold/blobs/{sha[:2]}/{sha[2:4]}/{sha}")
            assert head["StorageClass"] == "GLACIER"
            assert not built.infrastructure.stores.hot.exists(sha)
            # server-side copies: the warm copy never came down to this machine on its way

            url = f"/api/v1/photos/{photo['id']}/original"
            waiting = client.get(url, headers=auth)
            assert waiting.status_code == 202
            assert waiting.headers["retry-after"] == "60"
            # the restore job asks S3 to restore the archive...
            built.infrastructure.queue.run_pending()
            for _ in range(50):  # ...and the move finishes once S3 has (the lifecycle resumes)
                if built.services.tiers.run_lifecycle():
                    break
                time.sleep(0.1)
            served = client.get(url, headers=auth)
            assert served.status_code == 200
            assert served.content == data
            assert client.get(f"/api/v1/photos/{photo['id']}", headers=auth).json()["tier"] == "hot"
            assert built.services.scrub.scrub().findings == []
    finally:
        built.close()


def test_originals_can_be_redirected_to_a_presigned_url(tmp_path: Path, s3_endpoint: str) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        storage_url=f"s3://albumen-sign-{uuid.uuid4().hex[:8]}?endpoint_url={s3_endpoint}",
        presign_originals_seconds=300,
        run_workers_in_server=False,
        analysis=False,
    )
    built = build(settings)
    try:
        with TestClient(create_app(settings, built)) as client:
            auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
            data = make_jpeg(640, 480, seed=92)
            photo = upload(client, auth, data, "Zürich 1.jpg").json()
            url = f"/api/v1/photos/{photo['id']}/original"
            moved = client.get(url, headers=auth, follow_redirects=False)
            assert moved.status_code == 307
            assert moved.headers["cache-control"] == "no-store"
            signed = moved.headers["location"]
            assert signed.startswith(s3_endpoint)
            assert "Expires=" in signed
            fetched = requests.get(signed, timeout=10)  # no account: the signature is the key
            assert fetched.content == data
            assert "Z%C3%BCrich" in fetched.headers["content-disposition"]
            part = requests.get(signed, headers={"Range": "bytes=0-9"}, timeout=10)
            assert (part.status_code, part.content) == (206, data[:10])
            cached = client.get(url, headers=auth | {"If-None-Match": f'"{photo["sha256"]}"'})
            assert cached.status_code == 304  # the browser's copy is still good: no redirect
    finally:
        built.close()
