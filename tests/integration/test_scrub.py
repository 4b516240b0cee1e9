"""Fault tests of the stored bytes: flipped bytes, deleted blobs, a mirror, and the scrub."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from albumen.adapters.queue import HueyJobQueue
from albumen.app.infrastructure import Infrastructure
from albumen.app.root import Albumen, build
from albumen.app.services import Services
from albumen.config import Settings
from albumen.domain.durability import BlobHolder, Problem
from albumen.web import create_app
from tests.conftest import make_jpeg, upload

HOUR = 3600


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        mirror_url=(tmp_path / "mirror").as_uri(),
        run_workers_in_server=False,
        job_retries=0,
        analysis=False,
    )


@pytest.fixture
def unmirrored(tmp_path: Path) -> Iterator[Albumen]:
    built = build(
        Settings(data_dir=tmp_path / "plain", run_workers_in_server=False, analysis=False)
    )
    yield built
    built.close()


def _blob(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256[2:4] / sha256


def _flip_a_byte(path: Path, at: int = 1000) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))


def _age(path: Path, seconds: float) -> None:
    old = path.stat().st_mtime - seconds
    os.utime(path, (old, old))


def _stored_photo(
    client: TestClient, auth: dict[str, str], queue: HueyJobQueue, seed: int
) -> dict[str, Any]:
    body = upload(client, auth, make_jpeg(seed=seed), f"p{seed}.jpg").json()
    queue.run_pending()
    stored: dict[str, Any] = client.get(f"/api/v1/photos/{body['id']}", headers=auth).json()
    return stored


def test_an_upload_is_in_both_stores_verified(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    settings: Settings,
    queue: HueyJobQueue,
) -> None:
    photo = _stored_photo(client, auth, queue, 1)
    mirror_root = Path(settings.mirror_url.reveal().removeprefix("file://"))
    original = _blob(mirror_root, photo["sha256"])
    assert hashlib.sha256(original.read_bytes()).hexdigest() == photo["sha256"]
    assert len(list(mirror_root.glob("??/??/*"))) == 3  # the original, its thumb and preview
    assert services.scrub.scrub().findings == []


def test_scrub_finds_a_flipped_byte_and_repairs_it_from_the_mirror(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    settings: Settings,
    queue: HueyJobQueue,
) -> None:
    photo = _stored_photo(client, auth, queue, 2)
    _stored_photo(client, auth, queue, 3)
    stored = _blob(settings.data_dir / "blobs", photo["sha256"])
    _flip_a_byte(stored)

    found = services.scrub.scrub()
    assert [(f.sha256, f.store, f.problem, f.repair) for f in found.findings] == [
        (photo["sha256"], "primary", Problem.CORRUPT, None)
    ]
    assert found.findings[0].holders == [BlobHolder(photo["id"], "original")]
    assert found.referenced == 6
    assert found.hashed_blobs == 12

    repaired = services.scrub.scrub(repair=True)
    assert [f.repair for f in repaired.findings] == ["copied from the other store"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == photo["sha256"]
    assert services.scrub.scrub().findings == []


def test_a_corrupt_mirror_copy_is_repaired_from_the_primary(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    settings: Settings,
    queue: HueyJobQueue,
) -> None:
    photo = _stored_photo(client, auth, queue, 4)
    copy = _blob(Path(settings.mirror_url.reveal().removeprefix("file://")), photo["sha256"])
    copy.unlink()
    found = services.scrub.scrub(repair=True)
    assert [(f.store, f.problem, f.repair) for f in found.findings] == [
        ("mirror", Problem.MISSING, "copied from the other store")
    ]
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == photo["sha256"]


def test_reads_fall_back_to_the_mirror_and_heal_the_primary(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    infrastructure: Infrastructure,
    settings: Settings,
    queue: HueyJobQueue,
) -> None:
    photo = _stored_photo(client, auth, queue, 5)
    original = _blob(settings.data_dir / "blobs", photo["sha256"])
    original.unlink()
    response = client.get(f"/api/v1/photos/{photo['id']}/original", headers=auth)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == photo["sha256"]
    assert original.is_file()  # healed on the way

    # A thumbnail is read whole, so a corrupt one is noticed before a byte is sent.
    thumb = client.get(f"/api/v1/photos/{photo['id']}/thumbnail", headers=auth)
    infrastructure.thumbnail_cache.clear()
    stored = _blob(settings.data_dir / "blobs", thumb.headers["etag"].strip('"'))
    _flip_a_byte(stored, at=100)
    again = client.get(f"/api/v1/photos/{photo['id']}/thumbnail", headers=auth)
    assert again.status_code == 200
    assert again.content == thumb.content
    assert services.scrub.scrub().findings == []


def test_an_upload_fails_cleanly_when_the_mirror_cannot_be_written(
    client: TestClient, auth: dict[str, str], services: Services, settings: Settings
) -> None:
    staging = Path(settings.mirror_url.reveal().removeprefix("file://")) / ".staging"
    shutil.rmtree(staging)
    staging.write_text("not a folder")  # the mirror can take no write
    try:
        response = upload(client, auth, make_jpeg(seed=6), "x.jpg")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "mirror_unavailable"
        assert client.get("/api/v1/photos", headers=auth).json()["items"] == []
        assert client.get("/readyz").json()["failing"] == ["blob_store"]
    finally:
        staging.unlink()
        staging.mkdir()
    assert upload(client, auth, make_jpeg(seed=6), "x.jpg").status_code == 201


def test_a_deleted_original_is_reported_and_the_photo_answers_a_clear_error(
    unmirrored: Albumen, tmp_path: Path
) -> None:
    with TestClient(create_app(unmirrored.infrastructure.settings, unmirrored)) as client:
        auth = {"Authorization": f"Bearer {unmirrored.services.users.add('bob').secret}"}
        photo = _stored_photo(client, auth, unmirrored.infrastructure.queue, 7)
        _blob(tmp_path / "plain" / "blobs", photo["sha256"]).unlink()

        found = unmirrored.services.scrub.scrub(repair=True)
        assert [(f.problem, f.repair, f.holders) for f in found.findings] == [
            (Problem.MISSING, None, [BlobHolder(photo["id"], "original")])
        ]
        response = client.get(f"/api/v1/photos/{photo['id']}/original", headers=auth)
        assert response.status_code == 410
        assert response.json()["error"]["code"] == "blob_missing"
        # what was made from it is still there; what would be made from it now is not
        assert client.get(f"/api/v1/photos/{photo['id']}", headers=auth).status_code == 200
        webp = auth | {"Accept": "image/webp"}
        url = f"/api/v1/photos/{photo['id']}/thumbnail"
        assert client.get(url, headers=webp).status_code == 200
        jpeg = client.get(url, headers=auth | {"Accept": "image/jpeg"})
        assert jpeg.status_code == 410
        assert jpeg.json()["error"]["code"] == "blob_missing"


def test_a_lost_thumbnail_is_made_again_after_the_scrub(
    unmirrored: Albumen, tmp_path: Path
) -> None:
    with TestClient(create_app(unmirrored.infrastructure.settings, unmirrored)) as client:
        auth = {"Authorization": f"Bearer {unmirrored.services.users.add('bob').secret}"}
        photo = _stored_photo(client, auth, unmirrored.infrastructure.queue, 8)
        webp = auth | {"Accept": "image/webp"}
        url = f"/api/v1/photos/{photo['id']}/thumbnail?size=preview"
        preview = client.get(url, headers=webp).content
        sha = hashlib.sha256(preview).hexdigest()
        _flip_a_byte(_blob(tmp_path / "plain" / "blobs", sha), at=50)

        found = unmirrored.services.scrub.scrub(repair=True)
        assert [(f.problem, f.holders) for f in found.findings] == [
            (Problem.CORRUPT, [BlobHolder(photo["id"], "preview.webp")])
        ]
        assert found.findings[0].repair is not None
        unmirrored.infrastructure.thumbnail_cache.clear()
        again = client.get(url, headers=webp)
        assert again.status_code == 200
        assert hashlib.sha256(again.content).hexdigest() == sha  # made again, the same bytes
        assert unmirrored.services.scrub.scrub().findings == []


def test_old_unreferenced_blobs_are_reported_and_removed_from_both_stores(
    services: Services, infrastructure: Infrastructure, settings: Settings
) -> None:
    orphan = infrastructure.stores.blobs.put_bytes(b"left behind by a crash")
    young = infrastructure.stores.blobs.put_bytes(b"an upload in flight")
    mirror_root = Path(settings.mirror_url.reveal().removeprefix("file://"))
    for root in (settings.data_dir / "blobs", mirror_root):
        _age(_blob(root, orphan), 2 * HOUR)

    found = services.scrub.scrub()
    assert [(f.sha256, f.problem) for f in found.findings] == [(orphan, Problem.UNREFERENCED)]
    services.scrub.scrub(repair=True)
    assert not infrastructure.stores.blobs.exists(orphan)
    assert not _blob(mirror_root, orphan).exists()
    assert infrastructure.stores.blobs.exists(young)
