"""The web application: FastAPI with Albumen's routes, error handler and request ids."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from albumen import __version__
from albumen.adapters.http_metrics import MetricsMiddleware
from albumen.api import (
    admin,
    albums,
    downloads,
    maps,
    memories,
    metrics,
    openapi,
    ops,
    pages,
    people,
    photos,
    search,
    session,
    shares,
    similar,
    thumbnails,
    trash,
    uploads,
)
from albumen.api.errors import error_response, install_error_handlers, unexpected
from albumen.app.root import Albumen, build, monitoring, start_background_work
from albumen.config import Settings
from albumen.logs import request_id, setup_logging

log = logging.getLogger(__name__)


# on every answer: no browser second-guesses a type (an original served as what it is)
_HEADERS = [(b"x-content-type-options", b"nosniff")]


class RequestIdMiddleware:
    """Gives each request an id (or keeps the client's), for logs, error bodies and the
    ``X-Request-ID`` of every answer, a 500 included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        text = given.decode("latin-1")[:64]
        rid = text if text.isprintable() and text else os.urandom(8).hex()
        token = request_id.set(rid)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    *_HEADERS,
                    (b"x-request-id", rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:  # a bug: answered here, where the request id is known
            if started:
                raise  # the answer is under way: nothing more can be said to the client
            await unexpected(error)(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class NulGuardMiddleware:
    """A path or query string that holds a NUL character is refused with 400 ``invalid_text``
    (a JSON body's text is refused by ``schemas.Body``): PostgreSQL cannot store one, and no
    id, name or query has one, so both worlds answer alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            refused = error_response(400, "invalid_text", "text may not contain NUL characters")
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)


class ReadYourWritesMiddleware:
    """After a request that changed something (a method other than GET, HEAD or OPTIONS,
    answered below 400), remember the primary database's position for its user, before the
    answer leaves: their next reads wait for a replica that has it (``ReadRouting``)."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in self.SAFE:
            await self.app(scope, receive, send)
            return

        async def send_after_marking(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                user_id = scope.get("state", {}).get("user_id")
                reads = getattr(scope["app"].state, "reads", None)
                if user_id and reads is not None and reads.has_replicas:
                    await run_in_threadpool(reads.wrote, user_id)
            await send(message)

        await self.app(scope, receive, send_after_marking)


def app_from_environment() -> FastAPI:
    """The application as each of ``albumen serve``'s API worker processes makes it."""
    settings = Settings.from_environment()
    setup_logging(settings.log_level, settings.log_json)
    return create_app(settings)


def create_app(settings: Settings, albumen: Albumen | None = None) -> FastAPI:
    """The web application. Without ``albumen``, it builds its own and owns its workers."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            if app.state.services is None:
                built = build(settings)
                _serve(app, built)
                stack.callback(built.close)
                start_background_work(built)
                interval = settings.alert_interval_seconds
                stack.enter_context(monitoring(built.operations, interval))
                if settings.run_workers_in_server:
                    stack.enter_context(built.infrastructure.queue.working(settings.job_workers))
            yield

    app = FastAPI(
        title="Albumen",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # /docs is the web app's own page (pages.api_docs): no CDN
        redoc_url=None,
        # FastAPI's built-in OpenTelemetry hook checks the global providers on every request
        # (~10 of the ~34 us a cached thumbnail costs); Albumen does not export OTel.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = None
    tiles = settings.map_tiles_url.reveal()
    app.state.map_tiles = pages.MapTiles(tiles, settings.map_tiles_attribution) if tiles else None
    if albumen is not None:
        _serve(app, albumen)
    install_error_handlers(app)
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(ReadYourWritesMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(MetricsMiddleware)  # outermost: it times everything
    app.router.routes.insert(0, thumbnails.route)  # matched first: it is the hottest
    modules = (
        session,
        photos,
        albums,
        people,
        similar,
        search,
        maps,
        memories,
        trash,
        shares,
        downloads,
        uploads,
        ops,
        metrics,
        admin,
    )
    for module in modules:
        app.include_router(module.router)
    app.include_router(pages.router)
    app.router.routes.extend(pages.mounts)
    if not (pages.MODULES / "tus-js-client").is_dir():
        log.warning("the web app's packages are missing: run `make setup` (npm ci)")
    openapi.install(app, {thumbnails.PATH: thumbnails.OPENAPI})
    return app


def _serve(app: FastAPI, albumen: Albumen) -> None:
    """What the routes reach: the use cases; operations for the admin and metrics routes; the
    read routing for the middleware that keeps a user's reads after their writes."""
    app.state.services = albumen.services
    app.state.operations = albumen.operations
    app.state.reads = albumen.infrastructure.reads
