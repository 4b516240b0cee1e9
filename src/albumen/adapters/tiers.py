"""``TieredBlobStore``: one blob store over the hot, warm and cold stores of originals.

New bytes go to the hot store; a blob is read from whichever tier holds it (hot first), so a
move cut short (both copies there) or a tier the database has not caught up with never hides
a blob. Which tier an original *should* be in, and moving it there, is ``TierService``'s job;
whether a cold one may be read now is ``PhotoService``'s (S3 Glacier cannot be read at once;
a local cold volume can, and the scrub and backups read it).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from albumen.domain.tiers import Tier
from albumen.ports import BlobStore, StagedFile, StagingWriter, StoredBlob


class TieredBlobStore:
    def __init__(self, tiers: dict[Tier, BlobStore]) -> None:
        self.tiers = tiers
        self._hot = tiers[Tier.HOT]
        self._order = [tiers[tier] for tier in Tier if tier in tiers]

    def holder(self, sha256: str) -> BlobStore:
        """The store that holds the blob (hot first); the hot one when none does."""
        return next((store for store in self._order if store.exists(sha256)), self._hot)

    # writes land hot

    def stage(self, max_bytes: int) -> StagingWriter:
        return self._hot.stage(max_bytes)

    def stage_existing(self, path: Path) -> StagedFile:
        return self._hot.stage_existing(path)

    def commit(self, staged: StagedFile) -> None:
        self._hot.commit(staged)

    def put_bytes(self, data: bytes) -> str:
        return self._hot.put_bytes(data)

    def put_file(self, source: Path, sha256: str, *, replace: bool = False) -> int:
        """New bytes land hot; a repair (``replace``) rewrites the copy where it lies."""
        target = self.holder(sha256) if replace else self._hot
        if not replace and self.exists(sha256):
            return 0
        return target.put_file(source, sha256, replace=replace)

    def discard(self, staged: StagedFile) -> None:
        self._hot.discard(staged)

    def delete(self, sha256: str, older_than: datetime | None = None) -> bool:
        deleted = [store.delete(sha256, older_than) for store in self._order]
        return any(deleted)

    def discard_stale_staging(self, cutoff: datetime) -> int:
        return sum(store.discard_stale_staging(cutoff) for store in self._order)

    def list_older_than(self, cutoff: datetime) -> Iterator[str]:
        for store in self._order:
            yield from store.list_older_than(cutoff)

    # reads come from where the blob is

    def exists(self, sha256: str) -> bool:
        return any(store.exists(sha256) for store in self._order)

    def size(self, sha256: str) -> int:
        return self.holder(sha256).size(sha256)

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> bytes:
        return self.holder(sha256).read(sha256, start, end)

    def iter_range(self, sha256: str, start: int, end: int) -> Iterator[bytes]:
        return self.holder(sha256).iter_range(sha256, start, end)

    def local_path(self, sha256: str) -> Path:
        return self.holder(sha256).local_path(sha256)

    def verify(self, sha256: str) -> bool:
        return self.holder(sha256).verify(sha256)

    def hash_of(self, sha256: str) -> str:
        return self.holder(sha256).hash_of(sha256)

    def thaw(self, sha256: str) -> bool:
        return self.holder(sha256).thaw(sha256)

    def copy_from(self, source: BlobStore, sha256: str) -> bool:
        return self.tiers[Tier.HOT].copy_from(source, sha256)  # new blobs land hot

    def presigned_url(self, sha256: str, filename: str, mime: str, seconds: int) -> str | None:
        return self.holder(sha256).presigned_url(sha256, filename, mime, seconds)

    def scan(self) -> Iterator[StoredBlob]:
        """Every blob of every tier in hash order (twice, while a move is half done)."""
        return heapq.merge(*(store.scan() for store in self._order), key=lambda b: b.sha256)

    def check(self) -> None:
        for store in self._order:
            store.check()
