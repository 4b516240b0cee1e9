"""``GET /api/v1/search`` and ``GET /api/v1/timeline/buckets``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from albumen.api.deps import CurrentUser, Prefetch, Search
from albumen.api.openapi import errors
from albumen.api.schemas import PhotoOut, decode_cursor, encode_cursor
from albumen.domain.errors import InvalidInput
from albumen.domain.media import MediaType, media_named
from albumen.domain.search import SearchFilters, SearchOrder, parse_box, parse_date, parse_near

router = APIRouter(prefix="/api/v1", tags=["search"])


class SearchOut(BaseModel):
    items: list[PhotoOut]
    next_cursor: str | None
    total: int | None = Field(description="On the first page: matches, counted up to 1000.")
    total_is_exact: bool


class SuggestionOut(BaseModel):
    kind: Literal["camera", "place", "tag", "album", "person", "filter"]
    label: str
    query: str = Field(description="What to put in the query to find it.")


class Bucket(BaseModel):
    key: str  # "2019-06", or "2019-06-14" by day
    count: int


class BucketsOut(BaseModel):
    by: Literal["month", "day"]
    buckets: list[Bucket]


def filters(
    q: Annotated[str, Query(description="The query language: see docs/api.md.")] = "",
    after: Annotated[str | None, Query(description="2019, 2019-06 or 2019-06-14")] = None,
    before: Annotated[str | None, Query(description="exclusive")] = None,
    near: Annotated[str | None, Query(description="lat,lon[,radius (km, m, mi)]")] = None,
    bbox: Annotated[str | None, Query(description="south,west,north,east")] = None,
    camera: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    place: Annotated[list[str] | None, Query()] = None,
    person: Annotated[list[str] | None, Query(description="named people, all in the photo")] = None,
    album: Annotated[str | None, Query(description="name or id; includes sub-albums")] = None,
    favorite: bool | None = None,
    archived: bool | None = None,
    has_location: bool | None = None,
    type: Annotated[list[str] | None, Query(description="jpeg, heic, png, raw, ...")] = None,
    *,
    search: Search,
) -> SearchFilters:
    """The filters of the query string and of the parameters, as one."""
    try:
        given = SearchFilters(
            after=parse_date(after)[0] if after else None,
            before=parse_date(before)[0] if before else None,
            near=parse_near(near) if near else None,
            within=parse_box(bbox) if bbox else None,
            cameras=tuple(camera or ()),
            tags=tuple(tag or ()),
            places=tuple(place or ()),
            people=tuple(person or ()),
            album=album,
            favorite=favorite,
            archived=archived,
            has_location=has_location,
            mimes=tuple(m.mime for name in type or () for m in _media(name)),
        )
    except InvalidInput as err:
        raise InvalidInput(err.message, code="invalid_filter") from err
    return search.filters(q, given)


def _media(name: str) -> tuple[MediaType, ...]:
    found = media_named(name)
    if not found:
        raise InvalidInput(f"{name!r} is not a type Albumen stores (e.g. jpeg, heic, png, raw)")
    return found


Filters = Annotated[SearchFilters, Depends(filters)]


@router.get("/search", response_model=SearchOut, responses=errors(400))
def search_photos(
    user: CurrentUser,
    search: Search,
    wanted: Filters,
    prefetch: Prefetch,
    order: SearchOrder = SearchOrder.NEWEST,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> SearchOut:
    """Photos matching text and filters (archived ones too, unless ``archived=false``)."""
    result = search.search(user.id, wanted, order, limit, decode_cursor(cursor))
    prefetch.listed(user.id, [p.id for p in result.page.photos])
    return SearchOut(
        items=[PhotoOut.of(photo) for photo in result.page.photos],
        next_cursor=encode_cursor(result.page.next_cursor),
        total=result.total,
        total_is_exact=result.total_is_exact,
    )


@router.get("/timeline/buckets", response_model=BucketsOut, responses=errors(400))
def buckets(
    user: CurrentUser, search: Search, wanted: Filters, by: Literal["month", "day"] = "month"
) -> BucketsOut:
    """Photo counts per month or day, newest first, for scrubbing through years: of the
    timeline, or of a search when any filter is given."""
    found = search.buckets(user.id, wanted, by_day=by == "day")
    return BucketsOut(by=by, buckets=[Bucket(key=key, count=n) for key, n in found])


@router.get("/search/suggest", response_model=list[SuggestionOut], responses=errors(400))
def suggest(
    user: CurrentUser,
    search: Search,
    q: Annotated[str, Query(max_length=100, description="The word being typed.")] = "",
) -> list[SuggestionOut]:
    """Places, cameras, tags, albums and people of the user's library (and filters of the
    query language) that the word being typed may mean."""
    return [
        SuggestionOut(kind=s.kind, label=s.label, query=s.query) for s in search.suggest(user.id, q)
    ]
