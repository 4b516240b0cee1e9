"""Routes for people (faces grouped by the models, named by the user) and their faces."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from albumen.api import openapi
from albumen.api.deps import CurrentUser, People, Photos, Prefetch
from albumen.api.http import etag_matches
from albumen.api.openapi import errors
from albumen.api.schemas import Body, PhotoOut, PhotoPage, decode_cursor, encode_cursor
from albumen.domain.errors import NotFound
from albumen.domain.people import Face, Person

router = APIRouter(tags=["people"])


class PersonOut(BaseModel):
    id: str
    name: str | None
    hidden: bool
    cover_face_id: str | None
    face_count: int
    photo_count: int

    @classmethod
    def of(cls, person: Person) -> PersonOut:
        return cls(
            id=person.id,
            name=person.name,
            hidden=person.hidden,
            cover_face_id=person.cover_face_id,
            face_count=person.face_count,
            photo_count=person.photo_count,
        )


class FaceOut(BaseModel):
    id: str
    photo_id: str
    person_id: str | None
    box: dict[str, float] = Field(description="x, y, width, height as fractions of the image")
    score: float

    @classmethod
    def of(cls, face: Face) -> FaceOut:
        box = {"x": face.box.x, "y": face.box.y, "width": face.box.width}
        return cls(
            id=face.id,
            photo_id=face.photo_id,
            person_id=face.person_id,
            box=box | {"height": face.box.height},
            score=face.score,
        )


class PersonPatch(Body):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200, description="Empty clears the name.")
    hidden: bool | None = None


class Merge(Body):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=1000, description="People to fold in.")


class FacePatch(Body):
    model_config = ConfigDict(extra="forbid")

    person_id: str | None = Field(description="Another person, or null: a new person.")


@router.get("/api/v1/people", response_model=list[PersonOut])
def people(user: CurrentUser, people: People, hidden: bool = False) -> list[PersonOut]:
    """The user's people, most photographed first; ``hidden=true`` lists all of them."""
    return [PersonOut.of(person) for person in people.people(user.id, hidden)]


@router.get("/api/v1/people/{person_id}", response_model=PersonOut)
def person(person_id: str, user: CurrentUser, people: People) -> PersonOut:
    return PersonOut.of(people.person(user.id, person_id))


@router.patch("/api/v1/people/{person_id}", response_model=PersonOut, responses=errors(400))
def edit(person_id: str, body: PersonPatch, user: CurrentUser, people: People) -> PersonOut:
    """Name or hide a person; search finds named people with ``person:NAME``."""
    return PersonOut.of(people.edit(user.id, person_id, body.name, body.hidden))


@router.post("/api/v1/people/{person_id}/merge", response_model=PersonOut, responses=errors(400))
def merge(person_id: str, body: Merge, user: CurrentUser, people: People) -> PersonOut:
    """Fold these people into this one (their faces move; they go)."""
    return PersonOut.of(people.merge(user.id, person_id, body.ids))


class FacePage(BaseModel):
    items: list[FaceOut]
    next_cursor: str | None


@router.get("/api/v1/people/{person_id}/faces", response_model=FacePage, responses=errors(400))
def person_faces(
    person_id: str,
    user: CurrentUser,
    people: People,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> FacePage:
    """The person's faces, a page at a time: to review them, and move a wrong one out
    (``PATCH /api/v1/faces/{face_id}``)."""
    found, after = people.faces_of_person(user.id, person_id, limit, cursor)
    return FacePage(items=[FaceOut.of(face) for face in found], next_cursor=after)


@router.get("/api/v1/people/{person_id}/photos", response_model=PhotoPage, responses=errors(400))
def photos(
    person_id: str,
    user: CurrentUser,
    people: People,
    prefetch: Prefetch,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> PhotoPage:
    page = people.photos(user.id, person_id, limit, decode_cursor(cursor))
    prefetch.listed(user.id, [p.id for p in page.photos])
    return PhotoPage(
        items=[PhotoOut.of(p) for p in page.photos], next_cursor=encode_cursor(page.next_cursor)
    )


@router.get("/api/v1/photos/{photo_id}/faces", response_model=list[FaceOut])
def faces(photo_id: str, user: CurrentUser, people: People, photos: Photos) -> list[FaceOut]:
    """The faces found in one of the user's photos."""
    return [FaceOut.of(face) for face in people.faces_of(photos.get(user.id, photo_id))]


@router.patch("/api/v1/faces/{face_id}", response_model=FaceOut, responses=errors(400))
def move_face(face_id: str, body: FacePatch, user: CurrentUser, people: People) -> FaceOut:
    """Move a face to another person, or split it off into a new one (``null``)."""
    return FaceOut.of(people.move_face(user.id, face_id, body.person_id))


@router.get(
    "/api/v1/faces/{face_id}/thumbnail",
    response_class=Response,
    responses=openapi.image("image/jpeg"),
)
async def face_thumbnail(
    face_id: str, request: Request, user: CurrentUser, people: People, photos: Photos
) -> Response:
    """The face's crop (JPEG), for people lists."""
    face = await run_in_threadpool(people.face, user.id, face_id)
    if face.crop_sha256 is None:
        raise NotFound("this face has no picture", code="face_not_found")
    etag = f'"{face.crop_sha256}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    data = await run_in_threadpool(photos.blob, face.crop_sha256)
    return Response(data, media_type="image/jpeg", headers=headers)
