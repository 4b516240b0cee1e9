"""A photo, its derivatives and the states its processing moves through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from albumen.domain.metadata import PhotoMetadata


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
    description: str | None = None
    taken_at: datetime | None = None  # aware: local time with its offset


@dataclass(frozen=True, slots=True)
class TimelineCursor:
    sort_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Page:
    photos: list[Photo]
    next_cursor: TimelineCursor | None


@dataclass(frozen=True, slots=True)
class IngestResult:
    photo: Photo
    duplicate: bool
