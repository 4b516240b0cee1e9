"""The OpenAPI document: what each operation answers, errors included, and how it signs in.

FastAPI documents a route's success and its validation error. Everything else an operation can
answer is said here once, by rule, from what the route is:

- every operation may answer 500 (a bug: the body carries only the request id) and 503 (a
  database, store or queue away for now);
- an operation that signs its caller in (``current_user`` among its dependencies) answers 401,
  and a change made with it also 403 (a session cookie without its CSRF token or origin);
- an operation with a path parameter answers 404 (no such item, or another user's);
- an operation with parameters or a body answers 422 with Albumen's error body, not FastAPI's,
  and 400 for a body that does not parse or text with a NUL character in it;
- a change answers 507 when the server's storage is full.

What is particular to one route (a 409, a 413, a tus 412) it says itself with ``errors(...)``.
``tests/api/test_schema.py`` runs schemathesis against the document: an answer it does not
name fails there.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from albumen.api.deps import admin_user, current_user

REF = "#/components/schemas/{model}"
ERROR_BODY = {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}}
SAFE = frozenset({"get", "head", "options"})
WHY = {
    400: "The request is not valid; `code` says how",
    401: "No API key or session, or one that is not valid",
    403: "Not allowed: an admin's page, or a signed-in change without its CSRF token or origin",
    404: "No such item, or one of another user's",
    409: "The item's state does not allow this now",
    410: "It is gone, or known to be damaged",
    412: "tus: `Tus-Resumable` is missing or names another version",
    413: "Larger than the server takes",
    415: "Not a kind of file or body this takes",
    416: "The range starts past the end",
    422: "A parameter or a field of the body is not valid",
    429: "Too many attempts: try again after `Retry-After` seconds",
    460: "tus: the chunk's bytes do not match its `Upload-Checksum`",
    500: "A bug: the body carries only the request id, which the server's log names",
    503: "A database, store or queue is away for now: try again",
    507: "The server's storage is full: nothing of the request was kept",
}


BYTES = {"schema": {"type": "string", "format": "binary"}}


def image(*types: str) -> dict[int | str, dict[str, Any]]:
    """A picture's answers: its bytes in one of ``types``, or 304 for the copy the client has."""
    return {
        200: {"description": "The picture", "content": dict.fromkeys(types, BYTES)},
        304: {"description": "Not modified: the client's copy (`If-None-Match`) is current"},
    }


def original(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """An original's answers: its bytes whole or in a range, or where to fetch them."""
    whole = {"image/*": BYTES, "application/octet-stream": BYTES}
    return errors(
        *statuses,
        410,
        416,
        success={
            200: {"description": "The bytes as uploaded", "content": whole},
            202: {"description": "In cold storage: being restored, ask after `Retry-After`"},
            206: {"description": "The bytes of the `Range` asked for", "content": whole},
            304: {"description": "Not modified: the client's copy (`If-None-Match`) is current"},
            307: {"description": "Fetch the bytes (and any range) from the object store"},
        },
    )


def archive(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A zip of originals, streamed as it is made."""
    zipped = {"application/zip": BYTES}
    success: dict[int | str, dict[str, Any]] = {
        200: {"description": "A zip of the originals", "content": zipped}
    }
    return errors(*statuses, success=success)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # some errors say more (a limit, a wait)
    code: str = Field(description="What went wrong, for programs: `not_found`, `bad_cursor`...")
    message: str = Field(description="What went wrong, for people")
    request_id: str = Field(description="The id of the request in the server's log")


class ErrorOut(BaseModel):
    error: ErrorDetail


def errors(
    *statuses: int, success: dict[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A route's own answers, for its decorator's ``responses``: its errors, and what its
    successes say beyond FastAPI's reading of the route (headers, another status)."""
    answers = dict(success or {})
    for status in statuses:
        answers[status] = {"model": ErrorOut, "description": WHY[status]}
    return answers


def install(app: FastAPI, extra_paths: dict[str, dict[str, Any]]) -> None:
    """Make ``app.openapi`` the complete document: FastAPI's, ``extra_paths`` (plain Starlette
    routes, described by hand), and the answers every operation gives by rule."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(generate(), app, extra_paths)
        return app.openapi_schema  # type: ignore[return-value]  # set by generate() above

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend its schema


def complete(schema: dict[str, Any], app: FastAPI, extra_paths: dict[str, Any]) -> None:
    for path, operations in copy.deepcopy(extra_paths).items():
        schema["paths"].setdefault(path, operations)
    signed_in = set(_signed_in(app))
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(_error_schemas())
    components["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "`alb_...` from the CLI"},
        "session": {"type": "apiKey", "in": "cookie", "name": "albumen_session"},
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (path, method) in signed_in:
                operation.setdefault("security", [{"apiKey": []}, {"session": []}])
            _answers(method, operation)
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)


def _answers(method: str, operation: dict[str, Any]) -> None:
    """Add the answers every operation of this shape gives, each with the error body."""
    rules: list[tuple[int, Callable[[], bool]]] = [
        # a body that does not parse, or text with a NUL character in it
        (400, lambda: bool(operation.get("parameters") or operation.get("requestBody"))),
        (401, lambda: "security" in operation),
        (403, lambda: "security" in operation and method not in SAFE),
        (404, lambda: any(p.get("in") == "path" for p in operation.get("parameters", ()))),
        (422, lambda: bool(operation.get("parameters") or operation.get("requestBody"))),
        (500, lambda: True),
        (503, lambda: True),
        (507, lambda: method not in SAFE),
    ]
    responses = operation.setdefault("responses", {})
    for status, applies in rules:
        if applies():
            responses.setdefault(str(status), {"description": WHY[status]})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400 and method != "head":
            response["content"] = {
                "application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}
            }
        elif method == "head":
            response.pop("content", None)  # a HEAD answer has no body


def _error_schemas() -> dict[str, Any]:
    found = ErrorOut.model_json_schema(ref_template=REF)
    definitions = found.pop("$defs", {})
    return {"ErrorOut": found, **definitions}


def _signed_in(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(path, method) of every operation that signs its caller in."""
    for prefix, route in _api_routes(app.routes, ""):
        if route.include_in_schema and _signs_in(route.dependant):
            for method in route.methods or ():
                yield prefix + route.path_format, method.lower()


def _api_routes(routes: Sequence[BaseRoute], prefix: str) -> Iterator[tuple[str, APIRoute]]:
    """Every route of the app with the prefix it is served under; FastAPI keeps an included
    router's routes on the router itself, under its include's prefix."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix, route
        elif (router := getattr(route, "original_router", None)) is not None:
            context = getattr(route, "include_context", None)
            yield from _api_routes(router.routes, prefix + getattr(context, "prefix", ""))


def _signs_in(dependant: Dependant) -> bool:
    return any(
        dep.call in (current_user, admin_user) or _signs_in(dep) for dep in dependant.dependencies
    )
