"""Albums (which may hold albums), who may see them, and the links that share them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlbumOrder(StrEnum):
    MANUAL = "manual"
    NEWEST = "newest"
    OLDEST = "oldest"


class AlbumRole(StrEnum):
    """What a user may do with an album; each role may do what the ones below it may."""

    OWNER = "owner"  # everything
    CONTRIBUTOR = "contributor"  # add their own photos, remove the photos they added
    VIEWER = "viewer"  # look, download

    def allows(self, wanted: AlbumRole) -> bool:
        rank = [AlbumRole.VIEWER, AlbumRole.CONTRIBUTOR, AlbumRole.OWNER]
        return rank.index(self) >= rank.index(wanted)


@dataclass(frozen=True, slots=True)
class Album:
    id: str
    owner_id: str
    parent_id: str | None
    name: str
    description: str | None
    cover_photo_id: str | None
    order: AlbumOrder
    created_at: datetime
    updated_at: datetime
    photo_count: int = 0  # photos directly in it (not trashed)
    total_count: int | None = None  # photos in it and its sub-albums, when asked for
    role: AlbumRole = AlbumRole.OWNER  # of the user who asked


@dataclass(frozen=True, slots=True)
class AlbumEdit:
    """``None`` leaves a field alone; ``parent_id=""`` moves the album to the top."""

    name: str | None = None
    description: str | None = None
    cover_photo_id: str | None = None
    order: AlbumOrder | None = None
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    user_id: str
    name: str
    role: AlbumRole


@dataclass(frozen=True, slots=True)
class ShareLink:
    id: str
    owner_id: str
    album_id: str | None
    photo_id: str | None
    allow_download: bool
    expires_at: datetime | None
    created_at: datetime
    has_password: bool
    show_map: bool = False  # an album's visitors see where its photos were taken


@dataclass(frozen=True, slots=True)
class NewShareLink:
    link: ShareLink
    token: str  # shown once; only its hash is stored
