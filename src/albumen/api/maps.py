"""``GET /api/v1/map``: the clusters a map of the user's photos (or of an album's) draws."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from albumen.api.deps import CurrentUser, Maps
from albumen.api.openapi import errors
from albumen.api.pages import map_tiles
from albumen.domain.errors import InvalidInput
from albumen.domain.maps import MAX_ZOOM
from albumen.domain.search import Box, parse_box
from albumen.services.maps import MapView, Pin

router = APIRouter(prefix="/api/v1", tags=["map"])

BBOX = "south,west,north,east in degrees (west > east crosses the antimeridian)"


class ClusterOut(BaseModel):
    lat: float = Field(description="The middle of the cluster's photos.")
    lon: float
    count: int
    photo_id: str = Field(description="The newest photo of the cluster, to show on it.")
    thumbhash: str | None
    bbox: str = Field(
        description="The cell the cluster stands for (south,west,north,east): its photos are "
        "the search's (or the album's) with this bbox."
    )

    @classmethod
    def of(cls, pin: Pin) -> ClusterOut:
        box = pin.cluster.cell.box
        return cls(
            lat=round(pin.cluster.lat, 6),
            lon=round(pin.cluster.lon, 6),
            count=pin.cluster.count,
            photo_id=pin.photo_id,
            thumbhash=pin.thumbhash,
            bbox=",".join(f"{edge:.7g}" for edge in (box.south, box.west, box.north, box.east)),
        )


class MapOut(BaseModel):
    level: int = Field(description="The grid level of the clusters (cells of 360/2^level °).")
    total: int = Field(description="Photos in the clusters.")
    clusters: list[ClusterOut]

    @classmethod
    def of(cls, view: MapView) -> MapOut:
        return cls(
            level=view.level, total=view.total, clusters=[ClusterOut.of(pin) for pin in view.pins]
        )


def area(bbox: str) -> Box:
    """The box a map asks about (400 ``invalid_bbox`` when it is not one)."""
    try:
        return parse_box(bbox)
    except InvalidInput as err:
        raise InvalidInput(err.message, code="invalid_bbox") from err


Bbox = Annotated[str, Query(description=BBOX)]
Zoom = Annotated[int, Query(ge=0, le=MAX_ZOOM, description="The web map's zoom.")]


@router.get("/map", response_model=MapOut, responses=errors(400, 404))
def library_map(
    user: CurrentUser,
    maps: Maps,
    bbox: Bbox = "-90,-180,90,180",
    zoom: Zoom = 2,
    album: Annotated[
        str | None, Query(description="An album's id: its photos and its sub-albums'.")
    ] = None,
) -> MapOut:
    """Where the user's photos were taken (the timeline's: not trashed, not archived), or an
    album's, as clusters of about 64 pixels at the zoom, at most 1024 whatever the box: each
    with its count, its middle, its newest photo and the box its photos are in. The cost does
    not grow with the library: counts per cell are kept as photos change."""
    box = area(bbox)
    if album is not None:
        return MapOut.of(maps.album(user.id, album, box, zoom))
    return MapOut.of(maps.library(user.id, box, zoom))


class TilesOut(BaseModel):
    url: str | None = Field(description="Raster tiles ({z}/{x}/{y}); null: the offline map.")
    attribution: str


@router.get("/map/tiles", response_model=TilesOut)
def tiles(user: CurrentUser, request: Request) -> TilesOut:
    """What the web app's map draws under the photos: the online tiles the settings name, or
    none (the world map that ships with the app)."""
    del user  # signed in: the tiles' URL may hold the provider's key
    found = map_tiles(request)
    if found is None:
        return TilesOut(url=None, attribution="")
    return TilesOut(url=found.url, attribution=found.attribution)
