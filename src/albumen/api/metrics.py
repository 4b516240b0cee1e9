"""HTTP metrics for every request, and ``GET /metrics`` for Prometheus.

A plain ASGI middleware (no per-request objects beyond two closures): it reads the route
template Starlette's router leaves in the scope, so labels stay few whatever the ids in paths.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from albumen.adapters import metrics
from albumen.api.deps import AdminUser

UNMATCHED = "unmatched"  # any path no route knows: one label, not one per probe
UPLOADS = {*metrics.UPLOAD_ROUTES, ("PATCH", "/api/v1/uploads/{upload_id}")}
DOWNLOADS = {path: path.rsplit("/", 1)[1] for _, path in metrics.DOWNLOAD_ROUTES}

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
async def exposition(request: Request, _admin: AdminUser) -> Response:
    """Prometheus text format; scrape with an admin's API key as the bearer token."""
    body = await run_in_threadpool(metrics.exposition, request.app.state.services.registry)
    return Response(body, media_type=metrics.CONTENT_TYPE)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._paths: dict[object, str] | None = None  # endpoint -> template, for plain routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        received = sent = 0
        status = 500  # what the client gets if the app raises before answering

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal sent, status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            route = self._template(scope)
            _record(route, scope["method"], status, time.perf_counter() - start, received, sent)

    def _template(self, scope: Scope) -> str:
        """The matched route's path template. FastAPI leaves ``scope["route"]`` for its own
        routes; a plain Starlette route (the thumbnail) is known by its endpoint."""
        route = scope.get("route")
        if route is not None:
            return str(route.path)
        if self._paths is None:
            routes = scope["app"].router.routes
            self._paths = {r.endpoint: r.path for r in routes if isinstance(r, Route)}
        return self._paths.get(scope.get("endpoint"), UNMATCHED)


def _record(route: str, method: str, status: int, seconds: float, received: int, sent: int) -> None:
    labels = (route, method, str(status))
    metrics.http_requests.labels(*labels).inc()
    metrics.http_duration.labels(*labels).observe(seconds)
    metrics.http_request_size.labels(*labels).observe(received)
    metrics.http_response_size.labels(*labels).observe(sent)
    if status < 300:
        if (method, route) in UPLOADS:
            metrics.uploaded_bytes.inc(received)
        elif route in DOWNLOADS and method == "GET":
            metrics.downloaded_bytes.labels(DOWNLOADS[route]).inc(sent)
