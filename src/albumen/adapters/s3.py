"""``S3BlobStore``: content-addressed blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph).

Keys are ``blobs/ab/cd/<sha256>``: the leading hash characters spread keys evenly over the
bucket's partitions, and S3 lists keys in order, so a listing comes in hash order, as the scrub
wants. Uploads are streamed to a local staging file first, hashed on the way (the hash is the
key), then sent with S3's own SHA-256 checksums: one for a single PUT, one per part for a
multipart upload (boto3's transfer manager, 16 MiB parts, several at once). S3 checks each
and refuses what does not match, and the object's size is checked after the upload.

Reads use ``Range`` requests. ``local_path`` (for the jobs that decode an original) fetches
the object into a local cache, hash-checked, which keeps the most recently used within a
budget (``cache_mb`` in the URL, 2 GiB), so a worker's disk does not fill with every original.
Calls are retried with backoff by botocore (its ``standard`` mode, 3 attempts), each bounded
by a connect and a read timeout (3 s and 10 s; ``connect_timeout`` and ``read_timeout`` in the
URL), so an endpoint that hangs costs a request about half a minute, not the two and a half
it cost with botocore's patience; readiness probes with one attempt of 2 s, so a health
check answers before a load balancer gives up on it. When S3 keeps failing, a circuit
breaker answers at once with ``Unavailable`` (503 ``storage_unavailable``) for a few seconds
instead of every request waiting for its timeouts.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

from albumen.adapters.blobs import CHUNK, HEX, LocalBlobStore, LocalStagingWriter
from albumen.domain.errors import Archived, BlobMissing, IntegrityError, NotFound, Unavailable
from albumen.ports import BlobStore, StagedFile, StoredBlob

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)
T = TypeVar("T")
PREFIX = "blobs/"
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})  # read only after a restore
PART_BYTES = 16 * 1024 * 1024
CACHE_BYTES = 2 * 1024**3  # originals fetched for the jobs, kept on local disk
CACHE_HOLD_SECONDS = 600  # a file handed out is kept this long: its reader may not have opened it
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0  # S3 answers a 16 MiB part within a second or two of its last byte
ATTEMPTS = 3
PROBE_TIMEOUT = 2.0  # readiness: one attempt


class CircuitBreaker:
    """Opens after ``failures`` consecutive failures; stays open ``cool_off`` seconds."""

    def __init__(self, failures: int = 5, cool_off: float = 10.0) -> None:
        self._limit = failures
        self._cool_off = cool_off
        self._failures = 0
        self._open_until = 0.0
        self._lock = threading.Lock()

    def call(self, action: Callable[[], T]) -> T:
        if time.monotonic() < self._open_until:
            raise _unavailable()
        try:
            result = action()
        except Exception as err:
            if _is_missing(err) or _is_archived(err):
                self._succeeded()  # S3 answered: a missing or archived key is no outage
                raise
            with self._lock:
                self._failures += 1
                if self._failures >= self._limit:
                    self._open_until = time.monotonic() + self._cool_off
                    log.error("object storage unreachable; failing fast", extra={"error": str(err)})
            raise _unavailable() from err
        self._succeeded()
        return result

    def _succeeded(self) -> None:
        with self._lock:
            self._failures = 0


class S3BlobStore:
    def __init__(
        self,
        client: S3Client,
        bucket: str,
        local: Path,
        storage_class: str = "STANDARD",
        breaker: CircuitBreaker | None = None,
        prefix: str = "",
        cache_bytes: int = CACHE_BYTES,
        probe: S3Client | None = None,
    ) -> None:
        self._s3 = client
        self._probe = probe or client  # readiness's client: quick to give up
        self.client = client
        self.bucket = bucket
        self.storage_class = storage_class
        self._prefix = f"{prefix.strip('/')}/{PREFIX}".lstrip("/")  # "warm/blobs/", "blobs/"
        self._staging = local / ".staging"
        self._staging.mkdir(parents=True, exist_ok=True)
        self._cache = LocalBlobStore(local / "cache", verify_writes=False)
        self._cache_bytes = cache_bytes
        self._cached: int | None = None  # bytes in the cache (None: not counted yet)
        self._trimming = threading.Lock()
        self._breaker = breaker or CircuitBreaker()

    @property
    def staging_dir(self) -> Path:
        return self._staging

    def check(self) -> None:
        self._call(lambda: self._probe.head_bucket(Bucket=self.bucket))

    def ensure_bucket(self, region: str = "us-east-1") -> None:
        """Create the bucket where it is missing (and creating it is allowed)."""
        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except Exception as err:
            if not _is_missing(err):
                raise
            if region == "us-east-1":  # the one region that takes no location constraint
                self._s3.create_bucket(Bucket=self.bucket)
            else:
                self._s3.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]  # a region name from the URL
                )

    # writing

    def stage(self, max_bytes: int) -> LocalStagingWriter:
        return self._cache.stage(max_bytes)

    def stage_existing(self, path: Path) -> StagedFile:
        return self._cache.stage_existing(path)

    def commit(self, staged: StagedFile) -> None:
        try:
            if not self._size_is(staged.sha256, staged.size):
                self._upload(staged.path, staged.sha256, staged.size)
        finally:
            staged.path.unlink(missing_ok=True)

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self._size_is(sha256, len(data)):
            checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
            self._call(
                lambda: self._s3.put_object(
                    Bucket=self.bucket,
                    Key=self._key(sha256),
                    Body=data,
                    ChecksumSHA256=checksum,
                    StorageClass=self.storage_class,  # type: ignore[arg-type]  # checked when the URL is read
                )
            )
        return sha256

    def put_file(self, source: Path, sha256: str, *, replace: bool = False) -> int:
        if not replace and self.exists(sha256):
            return 0
        digest = hashlib.sha256()
        with source.open("rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise IntegrityError(f"the copy of blob {sha256} hashes to {digest.hexdigest()}")
        size = source.stat().st_size
        self._upload(source, sha256, size)
        return size

    def _upload(self, path: Path, sha256: str, size: int) -> None:
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES)
        extra = {"ChecksumAlgorithm": "SHA256", "StorageClass": self.storage_class}
        if size < PART_BYTES:  # one PUT: S3 checks the whole object's SHA-256 itself
            extra["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        self._call(
            lambda: self._s3.upload_file(
                str(path), self.bucket, self._key(sha256), ExtraArgs=extra, Config=config
            )
        )
        if not self._size_is(sha256, size):
            raise IntegrityError(f"blob {sha256} did not arrive whole in the bucket")

    def discard(self, staged: StagedFile) -> None:
        staged.path.unlink(missing_ok=True)

    def discard_stale_staging(self, cutoff: datetime) -> int:
        return self._cache.discard_stale_staging(cutoff)

    def delete(self, sha256: str, older_than: datetime | None = None) -> bool:
        head = self._head(sha256)
        if head is None:
            return False
        if older_than is not None and _naive(head["LastModified"]) >= older_than:
            return False
        self._call(lambda: self._s3.delete_object(Bucket=self.bucket, Key=self._key(sha256)))
        self._cache.delete(sha256)
        return True

    # reading

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def size(self, sha256: str) -> int:
        head = self._head(sha256)
        if head is None:
            raise BlobMissing(f"blob {sha256} is missing")
        return int(head["ContentLength"])

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> bytes:
        return b"".join(self._get(sha256, start, end))

    def iter_range(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        if end <= start:
            return iter(())
        return self._get(sha256, start, end)

    def _get(self, sha256: str, start: int, end: int | None) -> Iterator[bytes]:
        span = f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"
        try:
            found = self._call(
                lambda: self._s3.get_object(Bucket=self.bucket, Key=self._key(sha256), Range=span)
            )
        except Exception as err:
            if _is_missing(err):
                raise BlobMissing(f"blob {sha256} is missing") from err
            if _is_archived(err):
                raise Archived(
                    "this blob is archived: it can be read once restored", code="in_cold_storage"
                ) from err
            raise
        return iter(found["Body"].iter_chunks(CHUNK))  # opened now: a missing blob fails early

    def local_path(self, sha256: str) -> Path:
        """The object fetched into a local cache (hash-checked), for code that needs a file.
        The cache keeps the most recently used files within its budget (``cache_bytes``)."""
        if self._cache.exists(sha256):
            path = self._cache.local_path(sha256)
            path.touch()  # used now: the last to go
            return path
        temp = self._staging / f"{sha256}.fetch"
        try:
            with temp.open("wb") as out:
                for chunk in self._get(sha256, 0, None):
                    out.write(chunk)
            size = self._cache.put_file(temp, sha256)
        finally:
            temp.unlink(missing_ok=True)
        with self._trimming:
            if self._cached is not None:
                self._cached += size
            if self._cached is None or self._cached > self._cache_bytes:
                self._trim_cache()
        return self._cache.local_path(sha256)

    def _trim_cache(self) -> None:
        """Remove the least recently used files until the cache holds 80% of its budget, but
        none used in the last ``CACHE_HOLD_SECONDS`` (its reader may not have opened it yet)."""
        kept = sorted(self._cache.scan(), key=lambda blob: blob.modified)
        total = sum(blob.size for blob in kept)
        held = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=CACHE_HOLD_SECONDS)
        for blob in kept:
            if total <= self._cache_bytes * 0.8:
                break
            if self._cache.delete(blob.sha256, older_than=held):
                total -= blob.size
        self._cached = total

    def verify(self, sha256: str) -> bool:
        return self.hash_of(sha256) == sha256

    def hash_of(self, sha256: str) -> str:
        """The SHA-256 of the stored bytes. An archived object cannot be read: its hash is the
        one S3 computed and keeps (``ChecksumSHA256``) when that covers the whole object."""
        head = self._head(sha256, checksum=True)
        if head is not None and head.get("StorageClass") in ARCHIVED:
            kept = str(head.get("ChecksumSHA256", ""))
            if kept and "-" not in kept:
                return base64.b64decode(kept).hex()
        digest = hashlib.sha256()
        for chunk in self._get(sha256, 0, None):
            digest.update(chunk)
        return digest.hexdigest()

    def scan(self) -> Iterator[StoredBlob]:
        """Every blob, in key (so hash) order: S3 lists keys sorted."""
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"].rsplit("/", 1)[-1]
                if len(name) == 64 and all(c in HEX for c in name):
                    yield StoredBlob(name, int(item["Size"]), _naive(item["LastModified"]))

    def list_older_than(self, cutoff: datetime) -> Iterator[str]:
        return (blob.sha256 for blob in self.scan() if blob.modified < cutoff)

    def copy_from(self, source: BlobStore, sha256: str) -> bool:
        """S3's server-side copy (CopyObject; UploadPartCopy above 16 MiB, by boto3's transfer
        manager) from a bucket of the same endpoint, in this store's storage class with a
        SHA-256 checksum S3 computes. The size is checked after it."""
        if not isinstance(source, S3BlobStore) or source.endpoint != self.endpoint:
            return False
        from boto3.s3.transfer import TransferConfig

        size = source.size(sha256)
        config = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES)
        self._call(
            lambda: self._s3.copy(
                {"Bucket": source.bucket, "Key": source._key(sha256)},
                self.bucket,
                self._key(sha256),
                ExtraArgs={"StorageClass": self.storage_class, "ChecksumAlgorithm": "SHA256"},
                Config=config,
            )
        )
        if not self._size_is(sha256, size):
            raise IntegrityError(f"blob {sha256} did not arrive whole in the bucket")
        return True

    @property
    def endpoint(self) -> str:
        return str(self._s3.meta.endpoint_url)

    def thaw(self, sha256: str) -> bool:
        """Whether the blob can be read now; if it is archived (GLACIER, DEEP_ARCHIVE), a
        restore is asked for (S3 RestoreObject; asking again while one runs is harmless)."""
        head = self._head(sha256)
        if head is None:
            raise BlobMissing(f"blob {sha256} is missing")
        if head.get("StorageClass") not in ARCHIVED:
            return True
        restore = str(head.get("Restore", ""))
        if 'ongoing-request="false"' in restore:
            return True
        if 'ongoing-request="true"' not in restore:
            self._call(
                lambda: self._s3.restore_object(
                    Bucket=self.bucket,
                    Key=self._key(sha256),
                    RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}},
                )
            )
            log.info("archive restore asked for", extra={"sha256": sha256})
        return False

    def presigned_url(self, sha256: str, filename: str, mime: str, seconds: int) -> str | None:
        """A GET URL signed for ``seconds``: the client fetches the bytes (and its ranges)
        from S3, named and typed as the photo is."""
        disposition = "attachment; filename*=UTF-8''" + quote(filename, safe="")
        url: str = self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._key(sha256),
                "ResponseContentDisposition": disposition,
                "ResponseContentType": mime,
            },
            ExpiresIn=seconds,
        )
        return url

    # plumbing

    def _key(self, sha256: str) -> str:
        sha256 = _checked(sha256)
        return f"{self._prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _head(self, sha256: str, checksum: bool = False) -> Any:
        options: dict[str, Any] = {"ChecksumMode": "ENABLED"} if checksum else {}
        try:
            return self._call(
                lambda: self._s3.head_object(Bucket=self.bucket, Key=self._key(sha256), **options)
            )
        except Exception as err:
            if _is_missing(err):
                return None
            raise

    def _size_is(self, sha256: str, size: int) -> bool:
        head = self._head(sha256)
        return head is not None and int(head["ContentLength"]) == size

    def _call(self, action: Callable[[], T]) -> T:
        return self._breaker.call(action)


def s3_store(url: str, local: Path) -> S3BlobStore:
    """``s3://BUCKET[/PREFIX]?endpoint_url=...&region=...&storage_class=...&cache_mb=...``
    ``&connect_timeout=...&read_timeout=...`` (seconds; credentials: the standard ``AWS_*``
    variables). A prefix lets tiers share a bucket."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as err:
        raise RuntimeError("an s3:// store needs the s3 extra: pip install 'albumen[s3]'") from err

    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    region = query.get("region", "us-east-1")
    connect = float(query.get("connect_timeout", CONNECT_TIMEOUT))
    read = float(query.get("read_timeout", READ_TIMEOUT))

    def client(attempts: int, connect_timeout: float, read_timeout: float) -> S3Client:
        return boto3.client(
            "s3",
            endpoint_url=query.get("endpoint_url"),
            region_name=region,
            config=Config(
                retries={"max_attempts": attempts, "mode": "standard"},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_supported",
            ),
        )

    store = S3BlobStore(
        client(ATTEMPTS, connect, read),
        parts.netloc,
        local,
        query.get("storage_class", "STANDARD"),
        prefix=parts.path,
        cache_bytes=int(query.get("cache_mb", CACHE_BYTES // 1024**2)) * 1024**2,
        probe=client(1, min(connect, PROBE_TIMEOUT), min(read, PROBE_TIMEOUT)),
    )
    store.ensure_bucket(region)
    return store


def _checked(sha256: str) -> str:
    if len(sha256) != 64 or not all(c in HEX for c in sha256):
        raise NotFound("no such blob", code="blob_missing")
    return sha256


def _is_missing(err: Exception) -> bool:
    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket")


def _is_archived(err: Exception) -> bool:
    response = getattr(err, "response", None)
    code = response.get("Error", {}).get("Code", "") if isinstance(response, dict) else ""
    return code == "InvalidObjectState"


def _naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def _unavailable() -> Unavailable:
    return Unavailable(
        "object storage cannot be reached now; nothing was changed, try again later",
        code="storage_unavailable",
    )
