"""Durability: what a scrub finds wrong with stored blobs, and what it did about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SidecarKind(StrEnum):
    """What a metadata sidecar describes."""

    USER = "user"
    PHOTO = "photo"
    ALBUM = "album"


class Problem(StrEnum):
    MISSING = "missing"  # a record refers to it; the store does not have it
    CORRUPT = "corrupt"  # the stored bytes no longer hash to the blob's name
    UNREFERENCED = "unreferenced"  # stored, older than the grace period, and nothing refers to it


@dataclass(frozen=True, slots=True)
class BlobHolder:
    """A record that refers to a blob."""

    photo_id: str
    role: str  # "original", "thumb.webp", "preview.jpeg", "face crop"

    @property
    def derived(self) -> bool:
        """Bytes made from the original, which can be made again."""
        return self.role != "original"


@dataclass(slots=True)
class BlobFinding:
    sha256: str
    store: str  # "primary" or "mirror"
    problem: Problem
    holders: list[BlobHolder] = field(default_factory=list)
    repair: str | None = None  # what was done about it; None: nothing could be


@dataclass(slots=True)
class ScrubReport:
    started_at: datetime
    seconds: float = 0.0
    referenced: int = 0  # distinct hashes the database refers to
    hashed_blobs: int = 0
    hashed_bytes: int = 0
    findings: list[BlobFinding] = field(default_factory=list)

    @property
    def unrepaired(self) -> list[BlobFinding]:
        return [f for f in self.findings if f.repair is None]

    @property
    def bytes_per_second(self) -> float:
        return self.hashed_bytes / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class DatabaseSnapshot:
    """A checked copy of the database."""

    revision: str  # the schema revision it is at
    rows: dict[str, int]  # per table
    bytes: int
    sha256: str


@dataclass(slots=True)
class BackupManifest:
    """What one backup holds; written last, so a backup without one is incomplete."""

    name: str  # the snapshot's folder: its UTC time, e.g. 20261126T101500Z
    created_at: datetime
    database: DatabaseSnapshot
    blobs: int = 0  # referenced by the database copy
    blob_bytes: int = 0
    copied: int = 0  # of those, new in this backup (the others were there from earlier ones)
    copied_bytes: int = 0
    missing: list[str] = field(default_factory=list)  # referenced, but in no store to copy
    secret_key: bool = False
    seconds: float = 0.0
    format: int = 1


@dataclass(slots=True)
class RestoreReport:
    snapshot: str
    blobs: int = 0
    blob_bytes: int = 0
    missing: list[str] = field(default_factory=list)  # listed, but not in the backup
    seconds: float = 0.0


@dataclass(slots=True)
class RebuildReport:
    users: int = 0
    photos: int = 0
    albums: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class TableCount:
    """A table's rows in the library copied from and in the one copied to."""

    table: str
    source: int
    target: int


@dataclass
class TransferReport:
    """What ``albumen migrate-to`` copied and what it checked."""

    blobs: int = 0  # blobs the database refers to
    copied: int = 0  # copied by this run
    present: int = 0  # already in the target from an earlier run, verified again
    bytes_copied: int = 0
    bad: list[str] = field(default_factory=list)  # missing in the source, or failing their hash
    rows: dict[str, int] = field(default_factory=dict)  # rows read per table
    counts: list[TableCount] = field(default_factory=list)
    album_counts_agree: bool = False

    @property
    def ok(self) -> bool:
        return (
            not self.bad
            and self.album_counts_agree
            and all(count.source == count.target for count in self.counts)
        )
