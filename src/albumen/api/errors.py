"""The one error handler: every error becomes ``{"error": {code, message, request_id}}``."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from albumen.domain.errors import (
    AlbumenError,
    Conflict,
    CorruptMedia,
    Forbidden,
    Gone,
    IntegrityError,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMedia,
)
from albumen.logs import request_id
from albumen.services.uploads import ChecksumMismatch

log = logging.getLogger(__name__)

STATUS: list[tuple[type[AlbumenError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (Gone, 410),
    (RateLimited, 429),
    (ChecksumMismatch, 460),  # tus checksum extension
    (UnsupportedMedia, 415),
    (TooLarge, 413),
    (CorruptMedia, 422),
    (InvalidInput, 400),
    (IntegrityError, 500),
    (Unavailable, 503),
]


def error_response(
    status: int, code: str, message: str, details: dict[str, object] | None = None
) -> JSONResponse:
    error = {"code": code, "message": message, "request_id": request_id.get()}
    body = {"error": error | (details or {})}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def status_of(error: AlbumenError) -> int:
    return next((status for kind, status in STATUS if isinstance(error, kind)), 500)


async def _albumen_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AlbumenError)
    status = status_of(error)
    if isinstance(error, Unavailable):  # a backend out of reach, or a restore to wait for
        log.warning("request unavailable", extra={"code": error.code})
    elif status >= 500:
        log.error("request failed", extra={"code": error.code}, exc_info=error)
    response = error_response(status, error.code, error.message, error.details)
    if "retry_after" in error.details:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    return response


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(422, "validation_error", f"{where}: {first.get('msg', 'invalid')}")


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = {400: "unreadable_body", 404: "not_found", 405: "method_not_allowed"}.get(
        error.status_code, "http_error"
    )
    response = error_response(error.status_code, code, str(error.detail))
    response.headers.update(error.headers or {})
    if error.status_code == 405:
        response.headers["Allow"] = ", ".join(_allowed(request))
    return response


def _allowed(request: Request) -> list[str]:
    """Every method of every route at the request's path (Starlette names only the first's)."""
    return sorted(set(_methods(request.app.router.routes, request.scope)))


def _methods(routes: Sequence[BaseRoute], scope: Scope) -> Iterator[str]:
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        # an included router: its own routes (FastAPI keeps them on the router it wraps)
        inner = getattr(route, "routes", None) or getattr(
            getattr(route, "original_router", None), "routes", None
        )
        if inner is not None:
            yield from _methods(inner, {**scope, **child})
        else:
            yield from getattr(route, "methods", None) or ()


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    return unexpected(error)


def unexpected(error: Exception) -> JSONResponse:
    """A bug's answer: logged whole, shown to the client as nothing but its request id. A
    full disk, wherever it was met, is 507 instead: nothing of the request was kept."""
    if _out_of_space(error):
        log.error("storage full", extra={"error": str(error)})
        return error_response(
            507,
            "insufficient_storage",
            "the server's storage is full: nothing of this was kept; try again once space is"
            " freed (a resumable upload goes on from its offset)",
        )
    log.error("unexpected error", exc_info=error)
    return error_response(500, "internal_error", "something went wrong on the server")


def _out_of_space(error: BaseException | None) -> bool:
    """Whether the error, or one it came from, is a full disk or quota (SQLite's too)."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(error):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AlbumenError, _albumen_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
