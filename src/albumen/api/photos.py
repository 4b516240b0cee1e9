"""Routes for photos: upload, timeline, read, edit, trash, original and thumbnails."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from albumen.api import openapi
from albumen.api.albums import AlbumOut
from albumen.api.deps import Albums, CurrentUser, Photos, Prefetch, Trash
from albumen.api.errors import error_response
from albumen.api.http import (
    IMMUTABLE,
    RangeNotSatisfiable,
    content_disposition,
    etag_matches,
    parse_range,
)
from albumen.api.multipart import stream_file_field
from albumen.api.openapi import errors
from albumen.api.schemas import (
    BulkPatch,
    ChangedIds,
    PhotoIds,
    PhotoOut,
    PhotoPage,
    PhotoPatch,
    decode_cursor,
    encode_cursor,
)
from albumen.domain.errors import TooLarge
from albumen.domain.photos import Photo
from albumen.services.photos import PhotoService
from albumen.services.prefetch import PAGE_AHEAD

router = APIRouter(prefix="/api/v1/photos", tags=["photos"])


@router.post(
    "",
    status_code=201,
    response_model=PhotoOut,
    responses=errors(
        400,
        413,
        415,
        success={200: {"model": PhotoOut, "description": "Known already: `duplicate` is true"}},
    ),
)
async def upload(request: Request, user: CurrentUser, photos: Photos) -> Response:
    """Upload one photo as the multipart field ``file``; 200 and ``duplicate`` if known.
    An optional field ``modified_at`` (ISO 8601, e.g. ``2019-03-05T09:00:00+01:00``: when the
    file was last modified) dates a photo whose contents have no date."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > photos.max_upload_bytes + 64 * 1024:  # room for the form's own headers
        raise TooLarge(f"the upload is larger than the limit of {photos.max_upload_bytes} bytes")
    writer = photos.stage()
    try:
        form = await stream_file_field(
            request.headers.get("content-type", ""), request.stream(), writer
        )
        modified = photos.file_date(form.modified_at)  # checked before the bytes are kept
        staged = await run_in_threadpool(writer.finish)
    except ClientDisconnect:
        writer.abort()
        return Response(status_code=400)
    except BaseException:
        writer.abort()
        raise
    result = await run_in_threadpool(photos.ingest, user.id, form.filename, staged, modified)
    body = PhotoOut.of(result.photo, duplicate=result.duplicate)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if result.duplicate else 201)


@router.get("", response_model=PhotoPage, responses=errors(400))
def timeline(
    user: CurrentUser,
    photos: Photos,
    prefetch: Prefetch,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> PhotoPage:
    """The owner's photos, newest taken first; follow ``next_cursor`` for more."""
    page = photos.timeline(user.id, limit, decode_cursor(cursor))
    after = encode_cursor(page.next_cursor)
    prefetch.listed(
        user.id,
        [p.id for p in page.photos],
        cursor,
        after,
        lambda: [p.id for p in photos.timeline(user.id, PAGE_AHEAD, page.next_cursor).photos],
    )
    return PhotoPage(items=[PhotoOut.of(p) for p in page.photos], next_cursor=after)


@router.patch("", status_code=204, responses=errors(400, 404))
def edit_photos(patch: BulkPatch, user: CurrentUser, photos: Photos) -> Response:
    """One edit (favorite, archived, tags, ...) to several of the user's photos at once."""
    photos.edit_many(user.id, patch.ids, patch.edit())
    return Response(status_code=204)


@router.post("/trash", response_model=ChangedIds, responses=errors(400, 404))
def trash_photos(body: PhotoIds, user: CurrentUser, trash: Trash) -> ChangedIds:
    return ChangedIds(ids=trash.trash(user.id, body.ids))


@router.post("/restore", response_model=ChangedIds, responses=errors(400, 404))
def restore_photos(body: PhotoIds, user: CurrentUser, trash: Trash) -> ChangedIds:
    return ChangedIds(ids=trash.restore(user.id, body.ids))


@router.get("/{photo_id}", response_model=PhotoOut)
def get_photo(photo_id: str, user: CurrentUser, photos: Photos) -> PhotoOut:
    """One photo: the user's own, or one in an album shared with them."""
    return PhotoOut.of(photos.viewable(user.id, photo_id))


@router.patch("/{photo_id}", response_model=PhotoOut, responses=errors(400))
def edit_photo(photo_id: str, patch: PhotoPatch, user: CurrentUser, photos: Photos) -> PhotoOut:
    return PhotoOut.of(photos.edit(user.id, photo_id, patch.edit()))


@router.delete("/{photo_id}", status_code=204)
def trash_photo(photo_id: str, user: CurrentUser, trash: Trash) -> Response:
    trash.trash(user.id, [photo_id])
    return Response(status_code=204)


@router.post("/{photo_id}/restore", response_model=PhotoOut)
def restore_photo(photo_id: str, user: CurrentUser, trash: Trash, photos: Photos) -> PhotoOut:
    trash.restore(user.id, [photo_id])
    return PhotoOut.of(photos.get(user.id, photo_id))


@router.get("/{photo_id}/albums", response_model=list[AlbumOut])
def albums_of_photo(photo_id: str, user: CurrentUser, albums: Albums) -> list[AlbumOut]:
    """The albums the user can see that hold this photo."""
    return [AlbumOut.of(album) for album in albums.of_photo(user.id, photo_id)]


@router.get("/{photo_id}/original", response_class=Response, responses=openapi.original())
def original(photo_id: str, request: Request, user: CurrentUser, photos: Photos) -> Response:
    """The bytes as uploaded. Range requests, strong ETag, immutable caching."""
    return send_original(photos.viewable(user.id, photo_id), request, photos, IMMUTABLE)


def send_original(photo: Photo, request: Request, photos: PhotoService, caching: str) -> Response:
    """An original's bytes, whole or in a range, with its ETag and ``caching``.

    A cold original answers 202 with a ``Retry-After``: a restore job brings it back to hot,
    and the same request then gets the bytes.
    """
    wait = photos.restore_wait(photo)
    if wait is not None:
        body = {
            "status": "restoring",
            "tier": photo.tier.value,
            "retry_after": wait,
            "message": "the original is in cold storage; it is being restored",
        }
        return JSONResponse(
            body, status_code=202, headers={"Retry-After": str(wait), "Cache-Control": "no-store"}
        )
    etag = f'"{photo.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": caching,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(photo.filename),
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)  # the copy the client has is good
    photos.check_intact(photo)
    redirect = photos.original_redirect(photo)
    if redirect is not None:  # the bytes, and any Range, straight from the object store
        return RedirectResponse(redirect, status_code=307, headers={"Cache-Control": "no-store"})
    if_range = request.headers.get("if-range")
    wanted = request.headers.get("range") if if_range in (None, etag) else None
    try:
        span = parse_range(wanted, photo.size)
    except RangeNotSatisfiable:
        response = error_response(416, "range_not_satisfiable", "the range is past the end")
        response.headers["Content-Range"] = f"bytes */{photo.size}"
        return response
    start, end = span or (0, photo.size)
    headers["Content-Length"] = str(end - start)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{photo.size}"
    return StreamingResponse(
        photos.original_range(photo, start, end),
        status_code=206 if span else 200,
        media_type=photo.mime,
        headers=headers,
    )
