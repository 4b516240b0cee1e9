"""LocalBlobStore and the sweep, on a real folder and a real SQLite database."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from albumen.adapters.blobs import LocalBlobStore
from albumen.app.infrastructure import Infrastructure
from albumen.app.services import Services
from albumen.domain.errors import IntegrityError, NotFound, TooLarge
from albumen.ports import StagedFile
from tests.conftest import make_jpeg


def _stage(store: LocalBlobStore, data: bytes, limit: int = 1 << 30) -> StagedFile:
    writer = store.stage(limit)
    for start in range(0, len(data), 1000):
        writer.write(data[start : start + 1000])
    return writer.finish()


def test_commit_is_content_addressed_and_reads_by_range(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    data = os.urandom(10_000)
    staged = _stage(store, data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.head == data[:64]
    store.commit(staged)
    assert not staged.path.exists()
    assert store.read(staged.sha256) == data
    assert store.read(staged.sha256, 100, 200) == data[100:200]
    assert b"".join(store.iter_range(staged.sha256, 5000, 10_000)) == data[5000:]
    assert store.verify(staged.sha256)
    assert (tmp_path / staged.sha256[:2] / staged.sha256[2:4] / staged.sha256).is_file()


def test_size_limit_removes_the_partial_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(TooLarge):
        _stage(store, b"x" * 5000, limit=4000)
    assert list(store.staging_dir.glob("*.part")) == []


def test_bytes_that_do_not_read_back_are_refused(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    staged = _stage(store, b"the real bytes")
    staged.path.write_bytes(b"other bytes!!!")  # the disk changed them under us
    with pytest.raises(IntegrityError):
        store.commit(staged)
    assert not store.exists(staged.sha256)


def test_a_bitflip_is_detected_by_verify(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    sha = store.put_bytes(b"abc" * 100)
    path = tmp_path / sha[:2] / sha[2:4] / sha
    path.write_bytes(b"abd" + path.read_bytes()[3:])
    assert not store.verify(sha)


def test_hashes_are_checked_before_they_become_paths(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(NotFound):
        store.read("../../etc/passwd")


def test_sweep_removes_only_old_unreferenced_blobs(
    services: Services, infrastructure: Infrastructure
) -> None:
    """In both worlds: files by their time, S3 objects by their LastModified (whole seconds,
    hence the waits)."""
    owner = services.users.add("alice").user.id
    photos = services.photos
    kept = photos.ingest(owner, "a.jpg", _stage_via(services, make_jpeg(seed=1))).photo
    store = infrastructure.stores.blobs
    orphan_old = store.put_bytes(b"left by a crash")
    time.sleep(1.5)
    between = time.time()
    time.sleep(1.5)
    orphan_young = store.put_bytes(b"an upload in flight")
    removed = services.sweep.sweep_blobs(grace=timedelta(seconds=time.time() - between))
    assert removed == 1
    assert not store.exists(orphan_old)
    assert store.exists(orphan_young)
    assert store.exists(kept.sha256)


def _stage_via(services: Services, data: bytes) -> StagedFile:
    writer = services.photos.stage()
    writer.write(data)
    return writer.finish()
