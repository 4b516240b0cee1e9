"""Share links: made and revoked by their owner; opened by anyone at ``/s/{token}``."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from albumen.api import openapi, pages
from albumen.api.deps import CurrentUser, Maps, Photos, Shares
from albumen.api.http import accepts_webp, etag_matches
from albumen.api.maps import Bbox, MapOut, Zoom, area
from albumen.api.openapi import errors
from albumen.api.pages import wants_html
from albumen.api.photos import send_original
from albumen.api.schemas import Body, decode_cursor, encode_cursor
from albumen.domain.albums import Album, ShareLink
from albumen.domain.errors import NotFound
from albumen.domain.photos import Photo, ThumbFormat, ThumbSize
from albumen.services.shares import EDGE_SECONDS, UNLOCK_SECONDS

router = APIRouter(tags=["sharing"])
# A link can be revoked at any moment: caches must ask again each time (a 304 is cheap).
REVALIDATE = "private, no-cache"
UNLOCK_COOKIE = "albumen_unlock"


def _unlock(
    request: Request, header: Annotated[str | None, Header(alias="X-Share-Unlock")] = None
) -> str | None:
    """A link's unlock, from the header (API clients) or the cookie that /unlock set (browsers:
    an image tag sends no header)."""
    return header or request.cookies.get(UNLOCK_COOKIE)


Unlock = Annotated[str | None, Depends(_unlock)]


class ShareIn(Body):
    model_config = ConfigDict(extra="forbid")

    album_id: str | None = None
    photo_id: str | None = None
    expires_at: AwareDatetime | None = None
    password: str | None = Field(None, min_length=1, max_length=200)
    allow_download: bool = Field(False, description="Whether originals may be downloaded.")
    show_map: bool = Field(
        False, description="An album's: whether visitors see where its photos were taken."
    )


class ShareOut(BaseModel):
    id: str
    album_id: str | None
    photo_id: str | None
    allow_download: bool
    show_map: bool
    expires_at: datetime | None
    created_at: datetime
    has_password: bool
    token: str | None = Field(None, description="Only when created: it is not stored.")
    url: str | None = None

    @classmethod
    def of(cls, link: ShareLink, token: str | None = None) -> ShareOut:
        return cls(
            id=link.id,
            album_id=link.album_id,
            photo_id=link.photo_id,
            allow_download=link.allow_download,
            show_map=link.show_map,
            expires_at=link.expires_at.replace(tzinfo=UTC) if link.expires_at else None,
            created_at=link.created_at.replace(tzinfo=UTC),
            has_password=link.has_password,
            token=token,
            url=f"/s/{token}" if token else None,
        )


class SharedPhotoOut(BaseModel):
    """What a visitor sees of a photo: no owner, no hash, no GPS position."""

    id: str
    filename: str
    mime: str
    width: int | None
    height: int | None
    taken_at: str | None
    description: str | None
    thumbhash: str | None
    thumbnail_url: str | None = Field(
        None, description="Signed, cacheable by anyone until it expires (WebP)."
    )
    preview_url: str | None = Field(
        None, description="Signed, cacheable by anyone until it expires (WebP)."
    )

    @classmethod
    def of(cls, photo: Photo, urls: dict[str, str] | None = None) -> SharedPhotoOut:
        meta = photo.metadata
        urls = urls or {}
        return cls(
            thumbnail_url=urls.get("thumb"),
            preview_url=urls.get("preview"),
            id=photo.id,
            filename=photo.filename,
            mime=photo.mime,
            width=meta.width if meta else None,
            height=meta.height if meta else None,
            taken_at=meta.taken_at.isoformat() if meta and meta.taken_at else None,
            description=photo.description,
            thumbhash=photo.thumbhash,
        )


class SharedAlbumOut(BaseModel):
    id: str
    name: str
    photo_count: int

    @classmethod
    def of(cls, album: Album) -> SharedAlbumOut:
        return cls(id=album.id, name=album.name, photo_count=album.photo_count)


class SharedOut(BaseModel):
    kind: str
    title: str
    description: str | None
    allow_download: bool
    show_map: bool = Field(description="Whether /s/{token}/map shows where the photos were.")
    expires_at: datetime | None
    albums: list[SharedAlbumOut] = Field(description="Albums inside this one (open: album=ID).")
    items: list[SharedPhotoOut]
    next_cursor: str | None


class PasswordIn(Body):
    password: str = Field(max_length=200)


class UnlockOut(BaseModel):
    unlock: str = Field(
        description="Send back as the X-Share-Unlock header; browsers get it as a cookie too."
    )


@router.post("/api/v1/shares", status_code=201, response_model=ShareOut, responses=errors(400, 404))
def create(body: ShareIn, user: CurrentUser, shares: Shares) -> ShareOut:
    """A link to an album or a photo. The token is in this answer only."""
    expires = body.expires_at.astimezone(UTC).replace(tzinfo=None) if body.expires_at else None
    new = shares.create(
        user.id,
        body.album_id,
        body.photo_id,
        expires,
        body.password,
        body.allow_download,
        body.show_map,
    )
    return ShareOut.of(new.link, new.token)


@router.get("/api/v1/shares", response_model=list[ShareOut])
def of_owner(user: CurrentUser, shares: Shares) -> list[ShareOut]:
    return [ShareOut.of(link) for link in shares.of_owner(user.id)]


@router.delete("/api/v1/shares/{link_id}", status_code=204)
def revoke(link_id: str, user: CurrentUser, shares: Shares) -> Response:
    """Revoke a link: it stops working at once."""
    shares.revoke(user.id, link_id)
    return Response(status_code=204)


@router.post("/s/{token}/unlock", response_model=UnlockOut, responses=errors(400, 401, 429))
def unlock(
    token: str, body: PasswordIn, request: Request, response: Response, shares: Shares
) -> UnlockOut:
    """Check a link's password (rate limited per link and client)."""
    client = request.client.host if request.client else "unknown"
    unlocked = shares.unlock(token, body.password, client)
    response.set_cookie(
        UNLOCK_COOKIE,
        unlocked,
        max_age=UNLOCK_SECONDS,
        path=f"/s/{token}",  # this link only
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return UnlockOut(unlock=unlocked)


@router.get("/s/{token}", response_model=SharedOut, responses=errors(400, 401, 410))
def shared(
    token: str,
    request: Request,
    shares: Shares,
    unlock: Unlock = None,
    album: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
    bbox: Annotated[
        str | None,
        Query(description="south,west,north,east: a map's cluster (where the link shows one)"),
    ] = None,
) -> SharedOut:
    """What a link shows, without an account: a photo, or a page of an album's photos
    (``album`` opens an album inside the shared one). A browser opening the link gets the
    web app's page for it, which asks for this JSON."""
    if wants_html(request):
        return pages.shell(request)  # type: ignore[return-value]  # HTML for a browser, not the model
    link = shares.open(token, unlock)
    within = area(bbox) if bbox else None
    view = shares.view(link, album, limit, decode_cursor(cursor), within)
    urls = shares.edge_urls(link, view.page.photos)
    return SharedOut(
        kind="photo" if link.photo_id else "album",
        title=view.title,
        description=view.description,
        allow_download=link.allow_download,
        show_map=link.show_map,
        expires_at=link.expires_at.replace(tzinfo=UTC) if link.expires_at else None,
        albums=[
            SharedAlbumOut(id=a.id, name=a.name, photo_count=a.photo_count) for a in view.albums
        ],
        items=[SharedPhotoOut.of(photo, urls.get(photo.id)) for photo in view.page.photos],
        next_cursor=encode_cursor(view.page.next_cursor),
    )


@router.get("/s/{token}/map", response_model=MapOut, responses=errors(400, 401, 403, 410))
def shared_map(
    token: str,
    shares: Shares,
    maps: Maps,
    unlock: Unlock = None,
    album: str | None = None,
    bbox: Bbox = "-90,-180,90,180",
    zoom: Zoom = 2,
) -> MapOut:
    """Where the photos of an album's link were taken, as ``GET /api/v1/map`` has them (its
    ``album`` opens an album inside the shared one, as the link's page does): only where
    its owner let it show a map (403 ``map_not_shared`` otherwise). A cluster's photos are
    ``GET /s/{token}`` with its ``bbox``."""
    link = shares.open(token, unlock)
    shares.mapped(link)
    return MapOut.of(maps.albums([shares.shown_album(link, album)], area(bbox), zoom))


@router.get(
    "/t/{name}", response_class=Response, responses=openapi.image("image/webp") | errors(410)
)
async def edge_thumbnail(
    name: str,
    shares: Shares,
    photos: Photos,
    link: Annotated[str, Query(max_length=36)],
    exp: Annotated[int, Query()],
    sig: Annotated[str, Query(max_length=64)],
) -> Response:
    """A thumbnail by its content hash, through a URL a share page signed: no account, the
    link checked on every request (revoked: 404 at once), and ``public`` for at most
    ``EDGE_SECONDS``, so an edge cache in front keeps it that long and no longer."""
    await run_in_threadpool(shares.check_edge, name, link, exp, sig)
    sha256, _, extension = name.partition(".")
    if extension != ThumbFormat.WEBP.value:
        raise NotFound("no such thumbnail", code="not_found")
    data = await run_in_threadpool(photos.blob, sha256)
    max_age = max(0, min(exp - int(time.time()), EDGE_SECONDS))
    headers = {
        "ETag": f'"{sha256}"',
        "Cache-Control": f"public, max-age={max_age}, immutable",
    }
    return Response(data, media_type=ThumbFormat.WEBP.mime, headers=headers)


@router.get(
    "/s/{token}/photos/{photo_id}/thumbnail",
    response_class=Response,
    responses=openapi.image("image/webp", "image/jpeg") | errors(400, 401, 409, 410),
)
async def shared_thumbnail(
    token: str,
    photo_id: str,
    request: Request,
    shares: Shares,
    photos: Photos,
    unlock: Unlock = None,
    size: ThumbSize = ThumbSize.THUMB,
) -> Response:
    link = await run_in_threadpool(shares.open, token, unlock)
    photo = await run_in_threadpool(shares.photo, link, photo_id, False)
    fmt = ThumbFormat.WEBP if accepts_webp(request.headers.get("accept")) else ThumbFormat.JPEG
    found = await run_in_threadpool(photos.thumbnail_of, photo, size, fmt)
    etag = f'"{found.etag}"'
    headers = {"ETag": etag, "Cache-Control": REVALIDATE, "Vary": "Accept"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(found.data, media_type=found.mime, headers=headers)


@router.get(
    "/s/{token}/photos/{photo_id}/original",
    response_class=Response,
    responses=openapi.original(400, 401, 403),
)
def shared_original(
    token: str,
    photo_id: str,
    request: Request,
    shares: Shares,
    photos: Photos,
    unlock: Unlock = None,
) -> Response:
    """The original, where the link allows downloads (403 otherwise)."""
    photo = shares.photo(shares.open(token, unlock), photo_id, original=True)
    return send_original(photo, request, photos, REVALIDATE)
