"""Routes for likeness: similar photos, and near-duplicates with a suggested keeper."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from albumen.api.deps import CurrentUser, Similar
from albumen.api.openapi import errors
from albumen.api.schemas import PhotoOut

router = APIRouter(tags=["similar"])


class SimilarOut(BaseModel):
    photo: PhotoOut
    score: float  # cosine similarity, 1 for the same picture


class DuplicateGroupOut(BaseModel):
    keeper_id: str  # largest, then original format, then most metadata
    photos: list[PhotoOut]


@router.get(
    "/api/v1/photos/{photo_id}/similar", response_model=list[SimilarOut], responses=errors(409)
)
def similar(
    photo_id: str,
    user: CurrentUser,
    similar: Similar,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[SimilarOut]:
    """The user's photos most like this one ([] until the models have seen it)."""
    found = similar.similar(user.id, photo_id, limit)
    return [SimilarOut(photo=PhotoOut.of(s.photo), score=round(s.score, 4)) for s in found]


@router.get("/api/v1/search/clip", response_model=list[SimilarOut], responses=errors(400, 409))
def clip_search(
    q: str,
    user: CurrentUser,
    similar: Similar,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[SimilarOut]:
    """The user's photos that best match the words, through the CLIP model set in
    ``ALBUMEN_CLIP_MODEL_DIR`` (409 ``clip_not_configured`` without one)."""
    found = similar.matching(user.id, q, limit)
    return [SimilarOut(photo=PhotoOut.of(s.photo), score=round(s.score, 4)) for s in found]


@router.get("/api/v1/duplicates", response_model=list[DuplicateGroupOut])
def duplicates(user: CurrentUser, similar: Similar) -> list[DuplicateGroupOut]:
    """Groups of near-duplicates among the user's photos (resized, recompressed, converted or
    slightly cropped copies, bursts), each with the photo to keep."""
    return [
        DuplicateGroupOut(keeper_id=g.keeper.id, photos=[PhotoOut.of(p) for p in g.photos])
        for g in similar.duplicates(user.id)
    ]
