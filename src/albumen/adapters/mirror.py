"""``MirroredBlobStore``: every blob in two stores, read from the second when the first fails.

An upload is acknowledged only once its bytes are in both stores, each copy verified. Reads go
to the primary; a blob missing there, or whose bytes no longer hash to its name, is read from
the mirror and copied back into the primary at once (self-healing). Whole reads are checked
(thumbnails, face crops: small, so hashing them costs microseconds); a range of an original is
not, since its first bytes are sent before the last are read: ``albumen scrub`` finds those.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from albumen.adapters import metrics
from albumen.domain.errors import BlobMissing, IntegrityError, Unavailable
from albumen.ports import BlobStore, StagedFile, StagingWriter, StoredBlob

log = logging.getLogger(__name__)


class MirroredBlobStore:
    def __init__(self, primary: BlobStore, mirror: BlobStore) -> None:
        self.primary = primary
        self.mirror = mirror

    # writes: both copies, or the write fails

    def stage(self, max_bytes: int) -> StagingWriter:
        return self.primary.stage(max_bytes)

    def stage_existing(self, path: Path) -> StagedFile:
        return self.primary.stage_existing(path)

    def commit(self, staged: StagedFile) -> None:
        self.primary.commit(staged)
        self._copy_to_mirror(staged.sha256)

    def put_bytes(self, data: bytes) -> str:
        sha256 = self.primary.put_bytes(data)
        self._copy_to_mirror(sha256)
        return sha256

    def put_file(self, source: Path, sha256: str, *, replace: bool = False) -> int:
        copied = self.primary.put_file(source, sha256, replace=replace)
        self._copy_to_mirror(sha256, replace=replace)
        return copied

    def _copy_to_mirror(self, sha256: str, *, replace: bool = False) -> None:
        try:
            self.mirror.put_file(self.primary.local_path(sha256), sha256, replace=replace)
        except OSError as err:
            # The primary copy stays unreferenced until the sweep: nothing is acknowledged.
            log.error("mirror write failed", extra={"sha256": sha256, "error": str(err)})
            raise Unavailable(
                "the mirror store cannot be written now; nothing was stored, try again later",
                code="mirror_unavailable",
            ) from err

    def discard(self, staged: StagedFile) -> None:
        self.primary.discard(staged)

    def delete(self, sha256: str, older_than: datetime | None = None) -> bool:
        deleted = self.primary.delete(sha256, older_than)
        if deleted or not self.primary.exists(sha256):
            self.mirror.delete(sha256)
        return deleted

    def discard_stale_staging(self, cutoff: datetime) -> int:
        return self.primary.discard_stale_staging(cutoff) + self.mirror.discard_stale_staging(
            cutoff
        )

    def list_older_than(self, cutoff: datetime) -> Iterator[str]:
        return self.primary.list_older_than(cutoff)

    # reads: the primary, healed from the mirror when it fails

    def exists(self, sha256: str) -> bool:
        return self.primary.exists(sha256) or self.mirror.exists(sha256)

    def size(self, sha256: str) -> int:
        try:
            return self.primary.size(sha256)
        except BlobMissing:
            return self.mirror.size(sha256)

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> bytes:
        whole = start == 0 and end is None
        try:
            data = self.primary.read(sha256, start, end)
            if not whole or hashlib.sha256(data).hexdigest() == sha256:
                return data
            problem = "corrupt"
        except BlobMissing:
            problem = "missing"
        self.heal(sha256, problem)
        return self.primary.read(sha256, start, end)

    def iter_range(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        try:
            return self.primary.iter_range(sha256, start, end)
        except BlobMissing:
            self.heal(sha256, "missing")
            return self.primary.iter_range(sha256, start, end)

    def local_path(self, sha256: str) -> Path:
        """The primary's file, checked whole (jobs decode it: a bad copy would spoil them)."""
        try:
            if self.primary.hash_of(sha256) == sha256:
                return self.primary.local_path(sha256)
            problem = "corrupt"
        except BlobMissing:
            problem = "missing"
        self.heal(sha256, problem)
        return self.primary.local_path(sha256)

    def verify(self, sha256: str) -> bool:
        return self.primary.verify(sha256)

    def hash_of(self, sha256: str) -> str:
        return self.primary.hash_of(sha256)

    def thaw(self, sha256: str) -> bool:
        return self.primary.thaw(sha256)

    def copy_from(self, source: BlobStore, sha256: str) -> bool:
        return False  # two copies to make and check: put_file's

    def presigned_url(self, sha256: str, filename: str, mime: str, seconds: int) -> str | None:
        if not self.primary.exists(sha256):
            return None  # served (and healed) through Albumen
        return self.primary.presigned_url(sha256, filename, mime, seconds)

    def scan(self) -> Iterator[StoredBlob]:
        return self.primary.scan()

    def check(self) -> None:
        self.primary.check()
        self.mirror.check()

    def heal(self, sha256: str, problem: str) -> None:
        """Copy the mirror's blob over the primary's (missing or corrupt), verified.

        ``BlobMissing`` when the mirror lacks it too; ``IntegrityError`` when its copy is bad.
        """
        source = self.mirror.local_path(sha256)
        try:
            self.primary.put_file(source, sha256, replace=True)
        except IntegrityError:
            log.error("mirror copy is corrupt too", extra={"sha256": sha256})
            raise
        metrics.blob_repairs.labels("primary", problem).inc()
        log.warning("blob healed from the mirror", extra={"sha256": sha256, "problem": problem})
