"""``Importer``: bring files from disk into the library, skipping what is already there.

The CLI finds the files and hands over each one's size and a way to read it. A file whose size
matches none of the owner's photos cannot be a duplicate: it is stored in one pass, through the
same path as an upload. Otherwise it is hashed first, so a re-run after an interruption skips
stored files without copying a byte.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from albumen.domain.errors import AlbumenError, InvalidInput
from albumen.ports import StagedFile
from albumen.services.photos import PhotoService

Reader = Callable[[], Iterator[bytes]]


class Imported(StrEnum):
    IMPORTED = "imported"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ImportResult:
    outcome: Imported
    bytes: int = 0
    reason: str | None = None


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def add(self, name: str, result: ImportResult) -> None:
        self.bytes += result.bytes
        if result.outcome is Imported.IMPORTED:
            self.imported += 1
        elif result.outcome is Imported.DUPLICATE:
            self.duplicates += 1
        else:
            self.failed.append((name, result.reason or "unknown"))

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def megabytes(self) -> float:
        return self.bytes / 1e6


class Importer:
    """Imports into one owner's library; knows the sizes of the photos it already holds."""

    def __init__(self, photos: PhotoService, owner_id: str) -> None:
        self._photos = photos
        self._owner_id = owner_id
        self._sizes = photos.sizes(owner_id)

    def import_one(
        self, name: str, size: int, read: Reader, modified_at: str | None = None
    ) -> ImportResult:
        """One file; ``modified_at`` (ISO 8601, its date on disk) dates a photo whose contents
        have none, unless it is no date a photo can have (a clock reset to the future)."""
        try:
            modified = self._photos.file_date(modified_at)
        except InvalidInput:
            modified = None
        try:
            if size in self._sizes and self._stored(read):
                return ImportResult(Imported.DUPLICATE)
            result = self._photos.ingest(self._owner_id, name, self._stage(read), modified)
        except AlbumenError as err:
            return ImportResult(Imported.FAILED, reason=err.message)
        except OSError as err:
            return ImportResult(Imported.FAILED, reason=f"cannot read the file: {err.strerror}")
        outcome = Imported.DUPLICATE if result.duplicate else Imported.IMPORTED
        return ImportResult(outcome, bytes=result.photo.size)

    def _stored(self, read: Reader) -> bool:
        digest = hashlib.sha256()
        for chunk in read():
            digest.update(chunk)
        return self._photos.find_by_hash(self._owner_id, digest.hexdigest()) is not None

    def _stage(self, read: Reader) -> StagedFile:
        writer = self._photos.stage()
        try:
            for chunk in read():
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.finish()
