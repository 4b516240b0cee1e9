"""Downloads of many photos as one zip, streamed as it is made: an album, a share, a selection.

``POST /api/v1/photos/download`` takes the selection as JSON (``{"ids": [...]}``, an API
client's) or as the form a browser posts (``ids`` comma-separated, and the session's CSRF token
as ``csrf_token``: a form cannot send a header, and a form's answer is saved by the browser as
it arrives, however large, which a script's ``fetch`` could only hold in memory).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from albumen.api import openapi
from albumen.api.deps import Albums, CurrentUser, Shares, current_user, form_user
from albumen.api.shares import Unlock
from albumen.domain.errors import InvalidInput, TooLarge
from albumen.services.archives import MAX_SELECTION, Archive, ArchiveService

router = APIRouter(tags=["downloads"])
FORM = "application/x-www-form-urlencoded"
MAX_BODY = 1024 * 1024  # 10,000 ids and room to spare


async def archives(request: Request) -> ArchiveService:
    service: ArchiveService = request.app.state.services.archives
    return service


Archives = Annotated[ArchiveService, Depends(archives)]


class Selection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=MAX_SELECTION)


@router.get("/api/v1/albums/{album_id}/download", responses=openapi.archive())
def download_album(
    album_id: str, user: CurrentUser, albums: Albums, archives: Archives
) -> StreamingResponse:
    """The album's photos and its sub-albums' as one zip, streamed."""
    album, photos = albums.every_photo(user.id, album_id)
    return _send(archives.zip(album.name, photos))


@router.get("/s/{token}/download", responses=openapi.archive(400, 401, 403))
def download_share(
    token: str, shares: Shares, archives: Archives, unlock: Unlock = None
) -> StreamingResponse:
    """Everything the link shows as one zip, where it allows downloads (403 otherwise)."""
    name, photos = shares.downloadable(shares.open(token, unlock))
    return _send(archives.zip(name, photos))


@router.post(
    "/api/v1/photos/download",
    responses=openapi.archive(400, 404, 413),
    openapi_extra={
        "security": [{"apiKey": []}, {"session": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": Selection.model_json_schema()},
                FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "ids": {"type": "string", "description": "comma-separated"},
                            "csrf_token": {"type": "string"},
                        },
                        "required": ["ids", "csrf_token"],
                    }
                },
            },
        },
    },
)
async def download_selection(request: Request, archives: Archives) -> StreamingResponse:
    """The chosen photos (at most 10,000) as one zip, streamed."""
    body = await _small_body(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM:
        fields = parse_qs(body.decode("utf-8", "replace"))
        user = await form_user(request, fields.get("csrf_token", [""])[0])
        ids = [i for i in ",".join(fields.get("ids", [])).split(",") if i.strip()]
    else:
        user = await current_user(request)
        ids = _selection(body)
    archive = await run_in_threadpool(archives.selection, user.id, ids)
    return _send(archive)


def _selection(body: bytes) -> list[str]:
    try:
        return Selection.model_validate(json.loads(body)).ids
    except (ValueError, ValidationError) as err:  # JSONDecodeError is a ValueError
        raise InvalidInput(
            f'send {{"ids": [...]}} with 1 to {MAX_SELECTION} photo ids', code="invalid_selection"
        ) from err


async def _small_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise TooLarge("a selection is at most 1 MB", code="too_large")
    return bytes(body)


def _send(archive: Archive) -> StreamingResponse:
    quoted = quote(archive.filename)
    headers: dict[str, Any] = {
        "Content-Disposition": f"attachment; filename=\"download.zip\"; filename*=UTF-8''{quoted}",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(archive.chunks, media_type="application/zip", headers=headers)
