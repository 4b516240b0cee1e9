"""Routes for albums: the tree, their photos and the users they are shared with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from albumen.api.deps import Albums, CurrentUser, Prefetch
from albumen.api.openapi import errors
from albumen.api.schemas import Body, PhotoId, PhotoOut, PhotoPage, decode_cursor, encode_cursor
from albumen.domain.albums import Album, AlbumEdit, AlbumOrder, AlbumRole, Member
from albumen.domain.search import parse_box
from albumen.services.albums import AlbumView

router = APIRouter(prefix="/api/v1/albums", tags=["albums"])
Name = Annotated[str, Field(min_length=1, max_length=200)]


class AlbumIn(Body):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: str | None = Field(None, max_length=10_000)
    parent_id: str | None = None
    order: AlbumOrder = AlbumOrder.NEWEST


class AlbumPatch(Body):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: str | None = Field(None, max_length=10_000)
    cover_photo_id: str | None = None
    order: AlbumOrder | None = None
    parent_id: str | None = Field(None, description="Move under this album; null: to the top.")

    def edit(self) -> AlbumEdit:
        moved = "parent_id" in self.model_fields_set
        return AlbumEdit(
            name=self.name,
            description=self.description,
            cover_photo_id=self.cover_photo_id,
            order=self.order,
            parent_id=(self.parent_id or "") if moved else None,
        )


class AlbumOut(BaseModel):
    id: str
    owner_id: str
    parent_id: str | None
    name: str
    description: str | None
    cover_photo_id: str | None
    order: AlbumOrder
    photo_count: int
    total_count: int | None = Field(description="With sub-albums, when asked for.")
    role: AlbumRole
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, album: Album) -> AlbumOut:
        return cls(
            id=album.id,
            owner_id=album.owner_id,
            parent_id=album.parent_id,
            name=album.name,
            description=album.description,
            cover_photo_id=album.cover_photo_id,
            order=album.order,
            photo_count=album.photo_count,
            total_count=album.total_count,
            role=album.role,
            created_at=album.created_at.replace(tzinfo=UTC),
            updated_at=album.updated_at.replace(tzinfo=UTC),
        )


class MemberOut(BaseModel):
    user_id: str
    name: str
    role: AlbumRole

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(user_id=member.user_id, name=member.name, role=member.role)


class AlbumDetail(AlbumOut):
    path: list[AlbumOut] = Field(description="The albums above it, from the top down.")
    children: list[AlbumOut]
    members: list[MemberOut]

    @classmethod
    def of_view(cls, view: AlbumView) -> AlbumDetail:
        return cls(
            **AlbumOut.of(view.album).model_dump(),
            path=[AlbumOut.of(album) for album in view.path],
            children=[AlbumOut.of(album) for album in view.children],
            members=[MemberOut.of(member) for member in view.members],
        )


class AlbumPhotos(Body):
    model_config = ConfigDict(extra="forbid")

    ids: list[PhotoId] = Field(min_length=1, max_length=1000)


class MovePhotos(AlbumPhotos):
    before: str | None = Field(None, description="Put them before this photo; null: at the end.")


class MemberIn(Body):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(description="The user's name.")
    role: AlbumRole = AlbumRole.VIEWER


class Changed(BaseModel):
    ids: list[str]


@router.post("", status_code=201, response_model=AlbumOut, responses=errors(400, 404, 409))
def create(body: AlbumIn, user: CurrentUser, albums: Albums) -> AlbumOut:
    album = albums.create(user.id, body.name, body.description, body.parent_id, body.order)
    return AlbumOut.of(album)


@router.get("", response_model=list[AlbumOut])
def visible(user: CurrentUser, albums: Albums, include_sub: bool = False) -> list[AlbumOut]:
    """The user's albums and those shared with them; ``include_sub`` adds ``total_count``."""
    return [AlbumOut.of(album) for album in albums.visible(user.id, include_sub)]


@router.get("/{album_id}", response_model=AlbumDetail)
def view(
    album_id: str, user: CurrentUser, albums: Albums, include_sub: bool = False
) -> AlbumDetail:
    return AlbumDetail.of_view(albums.view(user.id, album_id, include_sub))


@router.patch("/{album_id}", response_model=AlbumOut, responses=errors(400, 409))
def edit(album_id: str, body: AlbumPatch, user: CurrentUser, albums: Albums) -> AlbumOut:
    """Rename, describe, choose the cover or the order, or move under another album."""
    return AlbumOut.of(albums.edit(user.id, album_id, body.edit()))


@router.delete("/{album_id}", status_code=204)
def delete(album_id: str, user: CurrentUser, albums: Albums, recursive: bool = False) -> Response:
    """Delete the album; its photos stay. ``recursive`` also deletes the albums inside."""
    albums.delete(user.id, album_id, recursive)
    return Response(status_code=204)


@router.get("/{album_id}/photos", response_model=PhotoPage, responses=errors(400))
def photos(
    album_id: str,
    user: CurrentUser,
    albums: Albums,
    prefetch: Prefetch,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
    include_sub: bool = False,
    bbox: Annotated[
        str | None, Query(description="south,west,north,east: only photos located there")
    ] = None,
) -> PhotoPage:
    within = parse_box(bbox) if bbox else None
    page = albums.photos(user.id, album_id, limit, decode_cursor(cursor), include_sub, within)
    prefetch.listed(user.id, [p.id for p in page.photos])
    return PhotoPage(
        items=[PhotoOut.of(p) for p in page.photos], next_cursor=encode_cursor(page.next_cursor)
    )


@router.put("/{album_id}/photos", response_model=Changed, responses=errors(400))
def add_photos(album_id: str, body: AlbumPhotos, user: CurrentUser, albums: Albums) -> Changed:
    """Add photos (the user's own); answers the ids that were not in the album yet."""
    return Changed(ids=albums.add_photos(user.id, album_id, body.ids))


@router.delete("/{album_id}/photos", response_model=Changed, responses=errors(400))
def remove_photos(album_id: str, body: AlbumPhotos, user: CurrentUser, albums: Albums) -> Changed:
    """Take photos out of the album (they stay in the library); answers the ids removed."""
    return Changed(ids=albums.remove_photos(user.id, album_id, body.ids))


@router.post("/{album_id}/photos/move", status_code=204, responses=errors(400))
def move_photos(album_id: str, body: MovePhotos, user: CurrentUser, albums: Albums) -> Response:
    """Set the manual order: these photos, in this order, before ``before``."""
    albums.move_photos(user.id, album_id, body.ids, body.before)
    return Response(status_code=204)


@router.post(
    "/{album_id}/members", status_code=201, response_model=MemberOut, responses=errors(400, 409)
)
def share(album_id: str, body: MemberIn, user: CurrentUser, albums: Albums) -> MemberOut:
    """Share the album (and the albums inside it) with another user of this instance."""
    return MemberOut.of(albums.share_with(user.id, album_id, body.user, body.role))


@router.delete("/{album_id}/members/{user_id}", status_code=204)
def unshare(album_id: str, user_id: str, user: CurrentUser, albums: Albums) -> Response:
    albums.unshare(user.id, album_id, user_id)
    return Response(status_code=204)
