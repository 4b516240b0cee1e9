"""``GET /api/v1/memories``: the start page's memories; hiding one and showing it again."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from albumen.api.deps import CurrentUser, Memories
from albumen.api.openapi import errors
from albumen.api.schemas import PhotoOut, PhotoPage, decode_cursor, encode_cursor
from albumen.domain.memories import Memory, MemoryKind

router = APIRouter(prefix="/api/v1/memories", tags=["memories"])


class MemoryOut(BaseModel):
    key: str = Field(description="Names the memory for good (to hide it).")
    kind: MemoryKind
    start: date = Field(description="Its first day (local days of capture).")
    end: date = Field(description="Its last day, inclusive.")
    years_ago: int
    count: int = Field(description="Photos of its days in the timeline.")
    places: list[str] = Field(description="A trip's places, the most photographed first.")
    cover_ids: list[str] = Field(description="Photos to show for it, the best first.")

    @classmethod
    def of(cls, memory: Memory, today: date) -> MemoryOut:
        return cls(
            key=memory.key,
            kind=memory.kind,
            start=memory.start,
            end=memory.end,
            years_ago=memory.years_ago(today),
            count=memory.count,
            places=list(memory.places),
            cover_ids=list(memory.cover_ids),
        )


class MemoriesOut(BaseModel):
    items: list[MemoryOut]


@router.get("", response_model=MemoriesOut, responses=errors(400))
def memories(
    user: CurrentUser,
    service: Memories,
    today: Annotated[
        date | None, Query(description="The user's own date (the server's by default).")
    ] = None,
) -> MemoriesOut:
    """*On this day* in earlier years, newest first, then recent trips (consecutive days far
    from home, ended within a year), less the memories the user hid. A memory's photos are the
    timeline's of its days: ``GET /api/v1/memories/{key}/photos``."""
    day = today or service.today()
    found = service.memories(user.id, day)
    return MemoriesOut(items=[MemoryOut.of(memory, day) for memory in found])


@router.get("/{key}/photos", response_model=PhotoPage, responses=errors(400))
def photos(
    key: str,
    user: CurrentUser,
    service: Memories,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> PhotoPage:
    """A memory's photos: the timeline's of its days (local days of capture), newest first."""
    page = service.photos(user.id, key, limit, decode_cursor(cursor))
    return PhotoPage(
        items=[PhotoOut.of(p) for p in page.photos], next_cursor=encode_cursor(page.next_cursor)
    )


@router.put("/{key}/hidden", status_code=204, responses=errors(400))
def hide(key: str, user: CurrentUser, service: Memories) -> Response:
    """Hide the memory from the start page (it stays hidden: its key is kept)."""
    service.hide(user.id, key)
    return Response(status_code=204)


@router.delete("/{key}/hidden", status_code=204, responses=errors(400))
def show(key: str, user: CurrentUser, service: Memories) -> Response:
    """Show a hidden memory again."""
    service.show(user.id, key)
    return Response(status_code=204)
