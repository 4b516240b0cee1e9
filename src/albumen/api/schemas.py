"""What the API sends and accepts (pydantic at the edge only)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from albumen.domain.errors import InvalidInput
from albumen.domain.photos import Photo, PhotoEdit, PhotoTag, TimelineCursor
from albumen.services.jobs import JobsOverview


class Body(BaseModel):
    """A request body. No text in it may hold a NUL character: PostgreSQL cannot store one,
    and no name, title or id has one, so it is refused alike in both worlds."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _holds_nul(data):
            raise ValueError("text may not contain NUL characters")
        return data


def _holds_nul(data: Any) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_holds_nul(key) or _holds_nul(value) for key, value in data.items())
    if isinstance(data, (list, tuple)):
        return any(_holds_nul(item) for item in data)
    return False


class PlaceOut(BaseModel):
    label: str
    city: str
    region: str
    country: str
    country_code: str


class LocationOut(BaseModel):
    lat: float
    lon: float
    alt: float | None
    place: PlaceOut | None = None


class CameraOut(BaseModel):
    make: str | None
    model: str | None
    lens: str | None


class ExposureOut(BaseModel):
    iso: int | None
    f_number: float | None
    exposure_time: float | None
    focal_length: float | None


class TagOut(BaseModel):
    name: str
    source: str = Field(description="user, or the model that saw it")
    confidence: float | None

    @classmethod
    def of(cls, tag: PhotoTag) -> TagOut:
        return cls(name=tag.name, source=tag.source, confidence=tag.confidence)


class PhotoOut(BaseModel):
    id: str
    filename: str
    mime: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    orientation: int | None
    taken_at: str | None = Field(description="Local time of capture, with its offset if known.")
    taken_at_utc: datetime | None
    taken_at_source: str | None
    location: LocationOut | None
    camera: CameraOut
    exposure: ExposureOut
    status: str
    error: str | None
    analysis_error: str | None = Field(description="Why the models could not analyse it.")
    tags: list[TagOut]
    favorite: bool
    archived: bool
    description: str | None
    thumbhash: str | None
    created_at: datetime
    trashed: bool
    deleted_at: datetime | None
    tier: str = Field(
        description="Where the original is stored: hot, warm, or cold (read after a restore)."
    )
    duplicate: bool | None = None

    @classmethod
    def of(cls, photo: Photo, duplicate: bool | None = None) -> PhotoOut:
        meta = photo.metadata
        taken = meta.taken_at if meta else None
        where = meta.location if meta else None
        camera = meta.camera if meta else None
        exposure = meta.exposure if meta else None
        return cls(
            id=photo.id,
            filename=photo.filename,
            mime=photo.mime,
            size=photo.size,
            sha256=photo.sha256,
            width=meta.width if meta else None,
            height=meta.height if meta else None,
            orientation=meta.orientation if meta else None,
            taken_at=taken.isoformat() if taken else None,
            taken_at_utc=_utc(taken.utc) if taken else None,
            taken_at_source=taken.source if taken else None,
            location=_location(photo) if where else None,
            camera=CameraOut(
                make=camera.make if camera else None,
                model=camera.model if camera else None,
                lens=camera.lens if camera else None,
            ),
            exposure=ExposureOut(
                iso=exposure.iso if exposure else None,
                f_number=exposure.f_number if exposure else None,
                exposure_time=exposure.exposure_time if exposure else None,
                focal_length=exposure.focal_length if exposure else None,
            ),
            status=photo.status.value,
            error=photo.error,
            analysis_error=photo.analysis_error,
            tags=[
                TagOut(name=t.name, source=t.source, confidence=t.confidence) for t in photo.tags
            ],
            favorite=photo.favorite,
            archived=photo.archived,
            description=photo.description,
            thumbhash=photo.thumbhash,
            created_at=_utc(photo.created_at),
            trashed=photo.trashed,
            tier=photo.tier.value,
            deleted_at=_utc(photo.deleted_at),
            duplicate=duplicate,
        )


def _location(photo: Photo) -> LocationOut:
    where = photo.metadata.location if photo.metadata else None
    assert where is not None
    place = photo.place
    return LocationOut(
        lat=where.lat,
        lon=where.lon,
        alt=where.alt,
        place=PlaceOut(
            label=place.label,
            city=place.city,
            region=place.region,
            country=place.country,
            country_code=place.country_code,
        )
        if place and place.city
        else None,
    )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


class PhotoPage(BaseModel):
    items: list[PhotoOut]
    next_cursor: str | None


Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PhotoId = Annotated[str, StringConstraints(min_length=1, max_length=36)]


def _text_only(value: object) -> object:
    if isinstance(value, int | float):
        raise ValueError("a date is ISO 8601 text with its offset, not a number")
    return value


DateText = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class PhotoPatch(Body):
    model_config = ConfigDict(extra="forbid")

    favorite: bool | None = None
    archived: bool | None = None
    description: str | None = Field(None, max_length=10_000)
    taken_at: DateText | None = None
    tags: list[Tag] | None = Field(None, max_length=100, description="The user's own tags.")

    def edit(self) -> PhotoEdit:
        return PhotoEdit(
            favorite=self.favorite,
            archived=self.archived,
            description=self.description,
            taken_at=self.taken_at,
            tags=None if self.tags is None else tuple(self.tags),
        )


class PhotoIds(Body):
    model_config = ConfigDict(extra="forbid")

    ids: list[PhotoId] = Field(min_length=1, max_length=1000)


class BulkPatch(PhotoPatch):
    ids: list[PhotoId] = Field(min_length=1, max_length=1000)


class ChangedIds(BaseModel):
    ids: list[str] = Field(description="The ids this request changed (others already were so).")


class FailureOut(BaseModel):
    id: str
    filename: str
    error: str | None


class JobsOut(BaseModel):
    queue_depth: int
    scheduled: int
    running: int
    failed_runs: int
    photos: dict[str, int]
    failures: list[FailureOut]

    @classmethod
    def of(cls, overview: JobsOverview) -> JobsOut:
        return cls(
            queue_depth=overview.queue.pending,
            scheduled=overview.queue.scheduled,
            running=overview.queue.running,
            failed_runs=overview.queue.failed,
            photos={status.value: n for status, n in overview.photos.items()},
            failures=[
                FailureOut(id=p.id, filename=p.filename, error=p.error) for p in overview.failures
            ],
        )


def encode_cursor(cursor: TimelineCursor | None) -> str | None:
    if cursor is None:
        return None
    raw = f"{cursor.doc_id}" if cursor.rank is None else f"{cursor.doc_id}|{cursor.rank!r}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> TimelineCursor | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        doc_id, _, rank = raw.partition("|")
        return TimelineCursor(int(doc_id), float(rank) if rank else None)
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise InvalidInput("the cursor is not one this server gave out", code="bad_cursor") from err
