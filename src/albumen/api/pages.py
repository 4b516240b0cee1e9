"""The web app: one HTML shell for every page, its ES modules and styles, and the front-end
packages it uses (tus, thumbhash, Leaflet and its offline world map, and Swagger UI for
``/docs``), read from ``frontend/node_modules`` (``npm ci`` at setup time)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

FRONTEND = Path(__file__).resolve().parents[1] / "frontend"
STATIC = FRONTEND / "static"
MODULES = FRONTEND / "node_modules"
# The pages the shell draws: each of these paths gets the same HTML, and the page routes itself.
PAGES = (
    "/",
    "/login",
    "/search",
    "/favorites",
    "/archive",
    "/trash",
    "/albums",
    "/albums/{album_id}",
    "/people",
    "/people/{person_id}",
    "/duplicates",
    "/map",
    "/memories/{key}",
    "/admin",
    "/photos/{photo_id}",
)
# Only this origin's scripts, styles and connections; images also as data:/blob: URLs
# (thumbhash placeholders, files chosen for upload), and from the map's tile server when one is
# configured (``MapTiles.origin``). No inline script runs.
_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:{tiles}; script-src 'self'; style-src 'self';"
    " connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self';"
    " frame-ancestors 'none'"
)
SECURITY = {
    "Content-Security-Policy": _POLICY.format(tiles=""),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a share link's token must never leak in a Referer
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class MapTiles:
    """An online map's raster tiles, when the settings name them (``map_tiles_url``)."""

    url: str
    attribution: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def map_tiles(request: Request) -> MapTiles | None:
    found: MapTiles | None = getattr(request.app.state, "map_tiles", None)
    return found


router = APIRouter(include_in_schema=False)


def shell(request: Request) -> Response:
    """The HTML every page starts from."""
    tiles = map_tiles(request)
    headers = SECURITY
    if tiles is not None:
        policy = _POLICY.format(tiles=f" {tiles.origin}")
        headers = SECURITY | {"Content-Security-Policy": policy}
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=headers)


def wants_html(request: Request) -> bool:
    """A browser opening the address itself, not a script asking for JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


for _path in PAGES:
    router.add_api_route(_path, shell, methods=["GET"], response_class=FileResponse)


@router.get("/docs", response_class=FileResponse)
def api_docs() -> Response:
    """The API's description in Swagger UI, served from here under the same policy as the app
    (FastAPI's own page loads Swagger UI from a CDN, with an inline script)."""
    return FileResponse(STATIC / "docs.html", media_type="text/html", headers=SECURITY)


class _Revalidated(StaticFiles):
    """Static files a browser may keep but must check (a 304 is cheap) after an upgrade."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]  # passed on as given
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


mounts = [
    Mount("/static", _Revalidated(directory=STATIC), name="static"),
    # Only the browser builds of the packages, not all of node_modules.
    Mount(
        "/vendor/tus",
        _Revalidated(directory=MODULES / "tus-js-client" / "dist", check_dir=False),
        name="vendor-tus",
    ),
    Mount(
        "/vendor/swagger-ui",
        _Revalidated(directory=MODULES / "swagger-ui-dist", check_dir=False),
        name="vendor-swagger-ui",
    ),
    Mount(
        "/vendor/leaflet",
        _Revalidated(directory=MODULES / "leaflet" / "dist", check_dir=False),
        name="vendor-leaflet",
    ),
    Mount(
        "/vendor/topojson",
        _Revalidated(directory=MODULES / "topojson-client" / "src", check_dir=False),
        name="vendor-topojson",
    ),
    Mount(  # Natural Earth's countries (public domain) as TopoJSON: the offline basemap
        "/vendor/world-atlas",
        _Revalidated(directory=MODULES / "world-atlas", check_dir=False),
        name="vendor-world-atlas",
    ),
    Mount(
        "/vendor/thumbhash",
        _Revalidated(directory=MODULES / "thumbhash", check_dir=False),
        name="vendor-thumbhash",
    ),
]
