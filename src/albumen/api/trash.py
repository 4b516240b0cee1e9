"""Routes for the trash: what is in it, and emptying it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from albumen.api.deps import CurrentUser, Trash
from albumen.api.openapi import errors
from albumen.api.schemas import (
    ChangedIds,
    PhotoIds,
    PhotoOut,
    PhotoPage,
    decode_cursor,
    encode_cursor,
)

router = APIRouter(prefix="/api/v1/trash", tags=["trash"])


@router.get("", response_model=PhotoPage, responses=errors(400))
def trashed(
    user: CurrentUser,
    trash: Trash,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> PhotoPage:
    """Photos in the trash; each is deleted for good after ``trash_days``."""
    page = trash.page(user.id, limit, decode_cursor(cursor))
    return PhotoPage(
        items=[PhotoOut.of(p) for p in page.photos], next_cursor=encode_cursor(page.next_cursor)
    )


@router.post("/empty", response_model=ChangedIds, responses=errors(400, 404))
def empty(body: PhotoIds, user: CurrentUser, trash: Trash) -> ChangedIds:
    """Delete for good the trashed photos named in ``ids`` (those the user saw there and
    confirmed); answers the ids deleted. Anything else stays."""
    return ChangedIds(ids=trash.empty(user.id, body.ids))
