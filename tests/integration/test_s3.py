"""The S3 blob store against a real S3 endpoint (moto's server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from albumen.adapters.s3 import CircuitBreaker, S3BlobStore, s3_store
from albumen.domain.errors import BlobMissing, IntegrityError, Unavailable

MB = 1024 * 1024


@pytest.fixture
def store(s3_endpoint: str, tmp_path: Path) -> S3BlobStore:
    bucket = f"albumen-{uuid.uuid4().hex[:12]}"
    return s3_store(f"s3://{bucket}?endpoint_url={s3_endpoint}&region=us-east-1", tmp_path)


def _staged(store: S3BlobStore, data: bytes):  # type: ignore[no-untyped-def]  # the store's own
    writer = store.stage(len(data) + 1)
    for start in range(0, len(data), 65536):
        writer.write(data[start : start + 65536])
    return writer.finish()


def test_a_blob_goes_in_verified_and_comes_out_whole_or_in_ranges(store: S3BlobStore) -> None:
    data = os.urandom(300_000)
    staged = _staged(store, data)
    store.commit(staged)
    sha = hashlib.sha256(data).hexdigest()
    assert staged.sha256 == sha
    assert not staged.path.exists()  # the staging file is gone once the object is in
    assert store.exists(sha)
    assert store.size(sha) == len(data)
    assert store.read(sha) == data
    assert store.read(sha, 1000, 2000) == data[1000:2000]
    assert b"".join(store.iter_range(sha, 5, 70_000)) == data[5:70_000]
    assert store.verify(sha)
    assert store.local_path(sha).read_bytes() == data
    head = store._s3.head_object(Bucket=store.bucket, Key=f"blobs/{sha[:2]}/{sha[2:4]}/{sha}")
    assert head["ContentLength"] == len(data)

    again = _staged(store, data)
    store.commit(again)  # the same bytes: nothing is sent twice
    assert store.delete(sha)
    assert not store.exists(sha)
    with pytest.raises(BlobMissing):
        store.read(sha)


def test_a_large_blob_goes_up_in_parts(store: S3BlobStore) -> None:
    data = os.urandom(40 * MB)  # above the 16 MiB part size: a multipart upload
    staged = _staged(store, data)
    store.commit(staged)
    assert store.hash_of(staged.sha256) == staged.sha256
    key = f"blobs/{staged.sha256[:2]}/{staged.sha256[2:4]}/{staged.sha256}"
    parts = store._s3.head_object(Bucket=store.bucket, Key=key, PartNumber=1)
    assert parts.get("PartsCount", 1) >= 3


def test_listing_comes_in_hash_order_with_sizes_and_ages(store: S3BlobStore) -> None:
    hashes = sorted(store.put_bytes(os.urandom(100 + n)) for n in range(12))
    listed = list(store.scan())
    assert [blob.sha256 for blob in listed] == hashes
    now = datetime.now(UTC).replace(tzinfo=None)
    assert all(abs(blob.modified - now) < timedelta(minutes=5) for blob in listed)
    assert list(store.list_older_than(now - timedelta(hours=1))) == []
    assert sorted(store.list_older_than(now + timedelta(minutes=10))) == hashes


def test_put_file_refuses_bytes_that_do_not_match_their_name(
    store: S3BlobStore, tmp_path: Path
) -> None:
    source = tmp_path / "x"
    source.write_bytes(b"some bytes")
    with pytest.raises(IntegrityError):
        store.put_file(source, hashlib.sha256(b"other bytes").hexdigest())
    sha = hashlib.sha256(b"some bytes").hexdigest()
    assert store.put_file(source, sha) == len(b"some bytes")
    assert store.read(sha) == b"some bytes"


def test_the_storage_class_is_the_stores(s3_endpoint: str, tmp_path: Path) -> None:
    url = f"s3://albumen-ia-{uuid.uuid4().hex[:8]}?endpoint_url={s3_endpoint}"
    store = s3_store(f"{url}&storage_class=STANDARD_IA", tmp_path)
    sha = store.put_bytes(b"rarely read")
    head = store._s3.head_object(Bucket=store.bucket, Key=f"blobs/{sha[:2]}/{sha[2:4]}/{sha}")
    assert head["StorageClass"] == "STANDARD_IA"


def test_an_unreachable_endpoint_fails_fast_once_the_breaker_opens(tmp_path: Path) -> None:
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:1",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=0.2, read_timeout=0.2),
    )
    store = S3BlobStore(client, "nowhere", tmp_path, breaker=CircuitBreaker(3, cool_off=60))
    sha = hashlib.sha256(b"x").hexdigest()
    for _ in range(3):
        with pytest.raises(Unavailable) as failed:
            store.exists(sha)
        assert failed.value.code == "storage_unavailable"
    start = time.monotonic()
    with pytest.raises(Unavailable):
        store.read(sha)
    assert time.monotonic() - start < 0.05  # open: no connection is even tried


def test_a_missing_bucket_is_made_in_its_region(s3_endpoint: str, tmp_path: Path) -> None:
    name = f"albumen-eu-{uuid.uuid4().hex[:8]}"
    store = s3_store(f"s3://{name}?endpoint_url={s3_endpoint}&region=eu-west-1", tmp_path)
    assert store.client.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert store.read(store.put_bytes(b"here")) == b"here"


def test_the_jobs_cache_keeps_the_recently_used_within_its_budget(
    s3_endpoint: str, tmp_path: Path
) -> None:
    url = f"s3://albumen-{uuid.uuid4().hex[:12]}?endpoint_url={s3_endpoint}&cache_mb=1"
    store = s3_store(url, tmp_path)
    blobs = [store.put_bytes(os.urandom(400 * 1024)) for _ in range(3)]
    first, second = store.local_path(blobs[0]), store.local_path(blobs[1])
    an_hour_ago = time.time() - 3600
    for path in (first, second):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert store.local_path(blobs[1]) == second  # used again: now the newest of the two
    third = store.local_path(blobs[2])  # 1.2 MB cached: over the budget of 1 MiB
    assert not first.exists()  # the least recently used went
    assert second.exists()
    assert third.exists()
    assert hashlib.sha256(store.local_path(blobs[0]).read_bytes()).hexdigest() == blobs[0]


def test_the_jobs_cache_never_drops_a_file_just_handed_out(
    s3_endpoint: str, tmp_path: Path
) -> None:
    url = f"s3://albumen-{uuid.uuid4().hex[:12]}?endpoint_url={s3_endpoint}&cache_mb=1"
    store = s3_store(url, tmp_path)
    paths = [store.local_path(store.put_bytes(os.urandom(400 * 1024))) for _ in range(4)]
    assert all(path.exists() for path in paths)  # over budget, but each may be being read
