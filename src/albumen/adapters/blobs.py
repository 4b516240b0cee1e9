"""``LocalBlobStore``: content-addressed files under one folder, written atomically.

Layout: ``ROOT/ab/cd/abcd…`` (the SHA-256 in hex). New bytes land in ``ROOT/.staging`` first,
are fsynced, renamed into place, and the folder is fsynced, so a crash leaves either the whole
blob or none of it (and at most a staging file, which the sweep removes).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from albumen.domain.errors import BlobMissing, IntegrityError, NotFound, TooLarge
from albumen.domain.media import SNIFF_BYTES
from albumen.ports import BlobStore, StagedFile, StoredBlob

CHUNK = 1024 * 1024
HEX = frozenset("0123456789abcdef")  # the digits of a blob's name
_WRITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="blob-writer")


class LocalStagingWriter:
    """Writes a stream to a staging file while hashing it and keeping its first bytes."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self._path = path
        self._max = max_bytes
        self._file = path.open("xb")
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = b""
        self._buffer = bytearray()
        self._pending: Future[None] | None = None

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._max:
            self.abort()
            raise TooLarge(f"the upload is larger than the limit of {self._max} bytes")
        if len(self._head) < SNIFF_BYTES:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
        # A network stream arrives in pieces of a few KB: hashing and writing them one by one
        # cost twice what the same bytes cost in 1 MiB blocks (measured).
        self._buffer += chunk
        if len(self._buffer) >= CHUNK:
            self._flush_buffer()

    def _flush_buffer(self) -> None:
        """Hash and write the full buffer on a helper thread while the next one fills.

        hashlib and file writes release the GIL, so the caller (the event loop, for an upload)
        keeps reading the network meanwhile. One block in flight keeps the order.
        """
        self._wait()
        block, self._buffer = self._buffer, bytearray()
        self._pending = _WRITERS.submit(self._write_block, block)

    def _write_block(self, block: bytearray) -> None:
        self._hash.update(block)
        self._file.write(block)

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def finish(self) -> StagedFile:
        self._flush_buffer()
        self._wait()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return StagedFile(self._path, self._hash.hexdigest(), self._size, self._head)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._wait()
        self._file.close()
        self._path.unlink(missing_ok=True)


class LocalBlobStore:
    def __init__(self, root: Path, *, verify_writes: bool = True) -> None:
        self._root = root
        self._staging = root / ".staging"
        self._staging.mkdir(parents=True, exist_ok=True)
        self._verify_writes = verify_writes

    @property
    def root(self) -> Path:
        return self._root

    @property
    def staging_dir(self) -> Path:
        return self._staging

    def check(self) -> None:
        """Raises unless the store can take a write now (for readiness)."""
        probe = self._staging / f".ready-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()

    def stage(self, max_bytes: int) -> LocalStagingWriter:
        return LocalStagingWriter(self._staging / f"{uuid.uuid4().hex}.part", max_bytes)

    def stage_existing(self, path: Path) -> StagedFile:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
            digest.update(head)
            while chunk := file.read(CHUNK):
                digest.update(chunk)
            os.fsync(file.fileno())
        return StagedFile(path, digest.hexdigest(), path.stat().st_size, head)

    def commit(self, staged: StagedFile) -> None:
        dest = self._path(staged.sha256)
        if dest.exists() and dest.stat().st_size == staged.size:
            os.utime(dest)  # fresh again: a sweep's grace period covers the new reference
            staged.path.unlink(missing_ok=True)
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        _move(staged.path, dest)
        _fsync_dir(dest.parent)
        if self._verify_writes and _sha256(dest) != staged.sha256:
            dest.unlink(missing_ok=True)
            raise IntegrityError(f"blob {staged.sha256} did not read back as written")

    def put_bytes(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        dest = self._path(sha)
        if dest.exists():
            os.utime(dest)
            return sha
        temp = self._staging / f"{uuid.uuid4().hex}.part"
        with temp.open("xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, dest)
        _fsync_dir(dest.parent)
        return sha

    def discard(self, staged: StagedFile) -> None:
        staged.path.unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError as err:
            raise BlobMissing(f"blob {sha256} is missing") from err

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> bytes:
        with self._open(sha256) as file:
            file.seek(start)
            data: bytes = file.read() if end is None else file.read(max(0, end - start))
            return data

    def iter_range(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        # opened now, not at the first chunk: a missing blob fails before a response starts
        return _chunks(self._open(sha256), start, end)

    def local_path(self, sha256: str) -> Path:
        path = self._path(sha256)
        if not path.is_file():
            raise BlobMissing(f"blob {sha256} is missing")
        return path

    def verify(self, sha256: str) -> bool:
        return self.hash_of(sha256) == sha256

    def hash_of(self, sha256: str) -> str:
        """The SHA-256 of the bytes stored under ``sha256`` now (they differ when corrupt)."""
        return _sha256(self.local_path(sha256))

    def thaw(self, sha256: str) -> bool:
        """A folder archives nothing: a blob that is there can be read."""
        self.local_path(sha256)
        return True

    def copy_from(self, source: BlobStore, sha256: str) -> bool:
        return False  # a copy between folders is put_file's

    def presigned_url(self, sha256: str, filename: str, mime: str, seconds: int) -> str | None:
        return None  # a folder is read through Albumen

    def put_file(self, source: Path, sha256: str, *, replace: bool = False) -> int:
        """Copy a file in under ``sha256``: hashed while copied, fsynced, renamed into place.

        A blob already there is kept unless ``replace`` (a repair). Returns the bytes copied.
        ``IntegrityError`` if the file's bytes do not hash to ``sha256``; nothing is left.
        """
        dest = self._path(sha256)
        if dest.is_file() and not replace:
            return 0
        temp = self._staging / f"{uuid.uuid4().hex}.part"
        digest = hashlib.sha256()
        copied = 0
        try:
            with source.open("rb") as src, temp.open("xb") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                    copied += len(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            if digest.hexdigest() != sha256:
                raise IntegrityError(f"the copy of blob {sha256} hashes to {digest.hexdigest()}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, dest)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_dir(dest.parent)
        return copied

    def scan(self) -> Iterator[StoredBlob]:
        """Every blob, in hash order (the order of the folders), with its size and age."""
        for first in _sorted_dirs(self._root):
            for second in _sorted_dirs(first):
                with os.scandir(second) as entries:
                    found = sorted(
                        (entry for entry in entries if len(entry.name) == 64),
                        key=lambda entry: entry.name,
                    )
                for entry in found:
                    stat = entry.stat()
                    modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
                    yield StoredBlob(entry.name, stat.st_size, modified)

    def delete(self, sha256: str, older_than: datetime | None = None) -> bool:
        path = self._path(sha256)
        try:
            if older_than is not None and path.stat().st_mtime >= _timestamp(older_than):
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def list_older_than(self, cutoff: datetime) -> Iterator[str]:
        limit = _timestamp(cutoff)
        for path in self._root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if len(path.name) == 64 and path.stat().st_mtime < limit:
                yield path.name

    def discard_stale_staging(self, cutoff: datetime) -> int:
        limit = _timestamp(cutoff)
        stale = [p for p in self._staging.glob("*.part") if p.stat().st_mtime < limit]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in HEX for c in sha256):
            raise NotFound("no such blob", code="blob_missing")
        return self._root / sha256[:2] / sha256[2:4] / sha256

    def _open(self, sha256: str) -> BinaryIO:
        try:
            return self._path(sha256).open("rb")
        except FileNotFoundError as err:
            raise BlobMissing(f"blob {sha256} is missing") from err


def _chunks(file: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    with file:
        file.seek(start)
        remaining = end - start
        while remaining > 0 and (chunk := file.read(min(CHUNK, remaining))):
            remaining -= len(chunk)
            yield chunk


def _sorted_dirs(parent: Path) -> list[Path]:
    """The two-hex-digit folders of a blob root, in order (``.staging`` is not one)."""
    try:
        with os.scandir(parent) as entries:
            names = [e.name for e in entries if len(e.name) == 2 and e.is_dir()]
    except FileNotFoundError:
        return []
    return [parent / name for name in sorted(names) if all(c in HEX for c in name)]


def _timestamp(naive_utc: datetime) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp()


def _move(source: Path, dest: Path) -> None:
    try:
        os.replace(source, dest)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise
        temp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
        with source.open("rb") as src, temp.open("xb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temp, dest)
        source.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class LocalPartWriter:
    """Appends a request body to a partial upload; ``rollback`` restores the old end."""

    def __init__(self, path: Path, offset: int, algorithm: str | None) -> None:
        # unbuffered: each chunk is in the file when write returns, and nothing is left to
        # reach it later once the upload is another request's (abandon)
        self._file = path.open("r+b", buffering=0)
        self._file.seek(offset)
        self._file.truncate()
        self._start = offset
        self._hash = hashlib.new(algorithm) if algorithm else None
        self.written = 0

    def write(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:  # an unbuffered write may take part of the chunk
            view = view[self._file.write(view) or 0 :]
        if self._hash is not None:
            self._hash.update(chunk)
        self.written += len(chunk)

    def digest(self) -> bytes | None:
        return None if self._hash is None else self._hash.digest()

    def commit(self) -> int:
        os.fsync(self._file.fileno())
        self._file.close()
        return self._start + self.written

    def abandon(self) -> None:
        self._file.close()

    def rollback(self) -> None:
        self._file.truncate(self._start)
        self._file.close()


class LocalUploadParts:
    """Partial bytes of resumable uploads, in the blob store's staging folder."""

    def __init__(self, staging: Path) -> None:
        self._dir = staging / "uploads"
        self._dir.mkdir(parents=True, exist_ok=True)

    def create(self, upload_id: str) -> None:
        self.path(upload_id).touch(exist_ok=False)

    def writer(self, upload_id: str, offset: int, algorithm: str | None) -> LocalPartWriter:
        return LocalPartWriter(self.path(upload_id), offset, algorithm)

    def path(self, upload_id: str) -> Path:
        return self._dir / f"{uuid.UUID(upload_id)}.part"

    def link(self, upload_id: str) -> Path:
        """A hard link in the staging folder (a copy where links are refused): the blob
        store moves it into place, and the part keeps its bytes for a retry until then. The
        part is complete, so nothing writes into it again (that would change the blob)."""
        source, target = self.path(upload_id), self._dir.parent / f"{uuid.uuid4().hex}.part"
        try:
            os.link(source, target)
        except OSError as err:
            if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            with source.open("rb") as src, target.open("xb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
                dst.flush()
                os.fsync(dst.fileno())
        return target

    def remove(self, upload_id: str) -> None:
        self.path(upload_id).unlink(missing_ok=True)
