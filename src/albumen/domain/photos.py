"""A photo, its derivatives and the states its processing moves through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from albumen.domain.metadata import PhotoMetadata, TakenAt
from albumen.domain.places import Place
from albumen.domain.tiers import Tier

EPOCH = datetime(1970, 1, 1)
_SALT_BITS = 10


class PhotoStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class ThumbSize(StrEnum):
    THUMB = "thumb"  # fits 300x300, for grids
    PREVIEW = "preview"  # 1440 px long edge, for the viewer

    @property
    def box(self) -> tuple[int, int]:
        return (300, 300) if self is ThumbSize.THUMB else (1440, 1440)


class ThumbFormat(StrEnum):
    WEBP = "webp"
    JPEG = "jpeg"

    @property
    def mime(self) -> str:
        return f"image/{self.value}"


@dataclass(frozen=True, slots=True)
class PhotoTag:
    name: str
    source: str  # "user", or the model that saw it
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class Photo:
    id: str
    owner_id: str
    filename: str
    mime: str
    size: int
    sha256: str
    status: PhotoStatus
    created_at: datetime
    sort_at: datetime  # when taken (UTC if the offset is known, else local), else uploaded
    metadata: PhotoMetadata | None = None
    error: str | None = None
    favorite: bool = False
    description: str | None = None
    thumbhash: str | None = None
    deleted_at: datetime | None = None
    doc_id: int = 0
    archived: bool = False
    place: Place | None = None
    tags: tuple[PhotoTag, ...] = ()
    analysis_version: str | None = None  # of the models that analysed it
    analysis_error: str | None = None
    tier: Tier = Tier.HOT  # where the original is stored
    file_modified: TakenAt | None = None  # its uploader's file date: the date if none inside

    @property
    def trashed(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class NewPhoto:
    """What ingest knows before any job ran."""

    owner_id: str
    filename: str
    mime: str
    size: int
    sha256: str
    file_modified: TakenAt | None = None


@dataclass(frozen=True, slots=True)
class Derivative:
    photo_id: str
    size: ThumbSize
    format: ThumbFormat
    sha256: str
    bytes: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Rendition:
    """Encoded thumbnail bytes, before they are stored."""

    size: ThumbSize
    format: ThumbFormat
    data: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class PhotoEdit:
    """A user's correction. ``None`` fields are left as they are."""

    favorite: bool | None = None
    archived: bool | None = None
    description: str | None = None
    taken_at: datetime | None = None  # aware: local time with its offset
    tags: tuple[str, ...] | None = None  # the user's own tags, replacing the previous ones


@dataclass(frozen=True, slots=True)
class TimelineCursor:
    """Where a page ended: the ``doc_id`` of its last photo (and its place in an album's manual
    order, or its search score: whatever orders the page before the doc_id)."""

    doc_id: int
    rank: float | None = None


@dataclass(frozen=True, slots=True)
class Page:
    photos: list[Photo]
    next_cursor: TimelineCursor | None


@dataclass(frozen=True, slots=True)
class Purged:
    """Photos deleted for good, and the blobs they (and their thumbnails) used."""

    photo_ids: list[str]
    hashes: set[str]


@dataclass(frozen=True, slots=True)
class IngestResult:
    photo: Photo
    duplicate: bool


def sort_key(sort_at: datetime, salt: int = 0) -> int:
    """The timeline order as one integer: milliseconds since 1970 of ``sort_at``, shifted left to
    leave room for a salt that tells photos of the same millisecond apart. Larger is newer."""
    ms = (sort_at - EPOCH) // timedelta(milliseconds=1)
    return ms << _SALT_BITS | (salt & ((1 << _SALT_BITS) - 1))


def sort_key_bounds(start: datetime | None, end: datetime | None) -> tuple[int | None, int | None]:
    """``doc_id`` bounds (inclusive, exclusive) for photos sorted at ``start <= t < end``."""
    return (
        None if start is None else sort_key(start),
        None if end is None else sort_key(end),
    )
