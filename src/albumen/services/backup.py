"""``BackupService``: consistent, incremental, verified backups, and restores from them.

A backup is a consistent copy of the database plus every blob that copy refers to. The blob
list comes from the copy, not from the live database, so the two always agree however busy
the library is. Blobs are content-addressed in the archive, so a backup copies only those
no earlier backup holds; each copy is hashed on the way and fails unless it matches.

A restore goes the other way into an empty data dir: the database copy is checked (its
integrity, and its hash against the manifest), every blob is copied back and hashed, and the
caller then verifies the rows of the working instance against the manifest.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from albumen.domain.durability import BackupManifest, RestoreReport
from albumen.domain.errors import BlobMissing, IntegrityError, NotFound
from albumen.ports import BackupArchive, BlobReferences, BlobStore, Clock, DatabaseSnapshots
from albumen.services.scrub import referenced_hashes

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int], None]  # bytes handled since the last call


class BackupService:
    def __init__(
        self,
        snapshots: DatabaseSnapshots,
        blobs: BlobStore,
        clock: Clock,
        secret: Path | None,
        threads: int = 4,
    ) -> None:
        self._snapshots = snapshots
        self._blobs = blobs
        self._clock = clock
        self._secret = secret
        self._threads = threads

    def backup(
        self, archive: BackupArchive, verify: bool = False, progress: Progress | None = None
    ) -> BackupManifest:
        """Snapshot the database into ``archive`` and copy the blobs it lacks.

        With ``verify``, blobs already in the archive are hashed again (not only counted).
        """
        start = time.perf_counter()
        now = self._clock.now()
        name = now.strftime("%Y%m%dT%H%M%S%fZ")
        archive.start(name)
        database = self._snapshots.snapshot(archive.database_path(name))
        manifest = BackupManifest(name, now, database)
        references, handle = self._snapshots.references(archive.database_path(name))
        try:
            listed = self._copied(archive, references, manifest, verify, progress)
            archive.write_blob_list(name, listed)
        finally:
            handle.dispose()
        if self._secret is not None and self._secret.exists():
            archive.keep_secret(name, self._secret)
            manifest.secret_key = True
        manifest.seconds = time.perf_counter() - start
        archive.complete(manifest)
        log.info(
            "backup complete",
            extra={"backup": name, "blobs": manifest.blobs, "copied": manifest.copied},
        )
        return manifest

    def _copied(
        self,
        archive: BackupArchive,
        references: BlobReferences,
        manifest: BackupManifest,
        verify: bool,
        progress: Progress | None,
    ) -> Iterator[tuple[str, int]]:
        """Each referenced blob, copied into the archive unless there; (hash, size) listed."""

        def copy(sha256: str) -> tuple[str, int, int]:
            return self._copy(archive, sha256, verify)

        for sha256, size, copied in ordered(copy, referenced_hashes(references), self._threads):
            if size < 0:
                manifest.missing.append(sha256)
                continue
            manifest.blobs += 1
            manifest.blob_bytes += size
            if copied:
                manifest.copied += 1
                manifest.copied_bytes += copied
            if progress is not None:
                progress(size)
            yield sha256, size

    def _copy(self, archive: BackupArchive, sha256: str, verify: bool) -> tuple[str, int, int]:
        """(hash, size, bytes copied); size -1 when no store has the blob."""
        try:
            size = self._blobs.size(sha256)
            kept = archive.blobs.exists(sha256) and archive.blobs.size(sha256) == size
            if kept and (not verify or archive.blobs.verify(sha256)):
                return sha256, size, 0
            source = self._blobs.local_path(sha256)
            return sha256, size, archive.blobs.put_file(source, sha256, replace=True)
        except BlobMissing:
            return sha256, -1, 0

    def restore(
        self,
        archive: BackupArchive,
        name: str | None,
        secret_dest: Path | None,
        progress: Progress | None = None,
    ) -> tuple[BackupManifest, RestoreReport]:
        """Put a backup back where there is no library yet: database, secret, blobs."""
        start = time.perf_counter()
        names = archive.names()
        if not names:
            raise NotFound("this folder holds no complete backup", code="no_backup")
        manifest = archive.manifest(name or names[-1])
        database = self._snapshots.check(archive.database_path(manifest.name))
        if database.sha256 != manifest.database.sha256:
            raise IntegrityError("the backup's database copy does not match its manifest")
        self._snapshots.install(archive.database_path(manifest.name))
        secret = archive.secret_path(manifest.name)
        if secret is not None and secret_dest is not None:
            secret_dest.parent.mkdir(parents=True, exist_ok=True)
            secret_dest.write_bytes(secret.read_bytes())
            secret_dest.chmod(0o600)
        report = RestoreReport(manifest.name)

        def copy(item: tuple[str, int]) -> tuple[str, int]:
            sha256, size = item
            try:
                self._blobs.put_file(archive.blobs.local_path(sha256), sha256, replace=True)
            except (BlobMissing, IntegrityError):
                return sha256, -1
            return sha256, size

        for sha256, size in ordered(copy, archive.blob_list(manifest.name), self._threads):
            if size < 0:
                report.missing.append(sha256)
                continue
            report.blobs += 1
            report.blob_bytes += size
            if progress is not None:
                progress(size)
        report.seconds = time.perf_counter() - start
        return manifest, report


def ordered(work: Callable[[T], R], items: Iterator[T], threads: int) -> Iterator[R]:
    """``work`` over ``items`` on ``threads``, results in order, a bounded number in flight."""
    with ThreadPoolExecutor(threads, thread_name_prefix="copy") as pool:
        in_flight: deque[Future[R]] = deque()
        for item in items:
            in_flight.append(pool.submit(work, item))
            if len(in_flight) > threads * 4:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
