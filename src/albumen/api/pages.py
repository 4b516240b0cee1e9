"""The web app: one HTML shell for every page, its ES modules and styles, and the front-end
packages it uses (tus, thumbhash, and Swagger UI for ``/docs``), read from
``frontend/node_modules`` (``npm ci`` at setup time)."""

from __future__ import annotations

from pathlib import Path

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
    "/admin",
    "/photos/{photo_id}",
)
SECURITY = {
    # Only this origin's scripts, styles and connections; images also as data:/blob: URLs
    # (thumbhash placeholders, files chosen for upload). No inline script runs.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self';"
        " connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self';"
        " frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a share link's token must never leak in a Referer
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def shell() -> Response:
    """The HTML every page starts from."""
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=SECURITY)


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
    # Only the browser builds of the two packages, not all of node_modules.
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
        "/vendor/thumbhash",
        _Revalidated(directory=MODULES / "thumbhash", check_dir=False),
        name="vendor-thumbhash",
    ),
]
