"""``GET /api/v1/photos/{id}/thumbnail``: the hottest route, so a plain Starlette endpoint.

A grid of 300 thumbnails is 300 requests. FastAPI's per-request machinery (dependency
solving, validation) cost more than everything else on this path put together (measured with
wrk: ~4k req/s through an APIRoute, ~12k through this endpoint in the same app). Auth, errors
and the request id are the same as everywhere else; the route is described in the OpenAPI
schema by hand.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from albumen.api.deps import current_user
from albumen.api.http import accepts_webp, etag_matches
from albumen.domain.errors import InvalidInput
from albumen.domain.photos import ThumbFormat, ThumbSize
from albumen.services.photos import PhotoService

PATH = "/api/v1/photos/{photo_id}/thumbnail"
CACHING = "private, max-age=86400"
THUMB = ThumbSize.THUMB


async def thumbnail(request: Request) -> Response:
    """WebP, or JPEG for clients whose ``Accept`` does not name WebP; made now if missing."""
    user = await current_user(request)
    photo_id: str = request.path_params["photo_id"]
    size = _size(request.query_params.get("size")) if request.scope["query_string"] else THUMB
    fmt = ThumbFormat.WEBP if accepts_webp(request.headers.get("accept")) else ThumbFormat.JPEG
    photos: PhotoService = request.app.state.services.photos
    cached = photos.cached_thumbnail(photo_id, size, fmt)  # one cache read, on the loop
    if cached is not None and cached.owner_id == user.id:
        found = cached.found
    else:  # a miss, or someone else's photo: the access check needs the database
        found = await run_in_threadpool(photos.thumbnail, user.id, photo_id, size, fmt, cached)
    request.app.state.services.prefetch.viewed(user.id, photo_id, size, fmt)
    etag = f'"{found.etag}"'
    headers = {"ETag": etag, "Cache-Control": CACHING, "Vary": "Accept"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(found.data, media_type=found.mime, headers=headers)


def _size(raw: str | None) -> ThumbSize:
    try:
        return ThumbSize(raw or ThumbSize.THUMB.value)
    except ValueError:
        choices = ", ".join(size.value for size in ThumbSize)
        raise InvalidInput(f"size is one of: {choices}", code="invalid_size") from None


route = Route(PATH, thumbnail, methods=["GET"], name="thumbnail")

OPENAPI: dict[str, Any] = {
    "get": {
        "tags": ["photos"],
        "summary": "Thumbnail",
        "description": thumbnail.__doc__,
        "operationId": "thumbnail",
        "security": [{"apiKey": []}, {"session": []}],
        "parameters": [
            {"name": "photo_id", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "size",
                "in": "query",
                "required": False,
                "schema": {"enum": [size.value for size in ThumbSize], "default": "thumb"},
            },
        ],
        "responses": {
            "200": {"content": {"image/webp": {}, "image/jpeg": {}}},
            "304": {"description": "Not modified"},
            "400": {"description": "`size` is not one of the sizes"},
            "404": {"description": "No such photo (or another user's)"},
            "409": {"description": "The photo could not be processed"},
        },
    }
}
