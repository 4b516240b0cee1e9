"""HTTP metrics for every request (Prometheus), as a plain ASGI middleware.

No per-request objects beyond two closures: it reads the route template Starlette's router
leaves in the scope, so labels stay few whatever the ids in paths.
"""

from __future__ import annotations

import time

from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from albumen.adapters import metrics

UNMATCHED = "unmatched"  # any path no route knows: one label, not one per probe
UPLOADS = {*metrics.UPLOAD_ROUTES, ("PATCH", "/api/v1/uploads/{upload_id}")}
DOWNLOADS = {path: path.rsplit("/", 1)[1] for _, path in metrics.DOWNLOAD_ROUTES}


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._paths: dict[object, str] | None = None  # endpoint -> template, for plain routes
        self._series: dict[tuple[str, str, int], _Series] = {}

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

        method = scope["method"]
        bodiless = method in ("GET", "HEAD")  # no body to count: spare the wrapper

        async def counting_send(message: Message) -> None:
            nonlocal sent, status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive if bodiless else counting_receive, counting_send)
        finally:
            key = (self._template(scope), method, status)
            series = self._series.get(key) or self._series.setdefault(key, _Series(*key))
            series.record(time.perf_counter() - start, None if bodiless else received, sent)

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


class _Series:
    """The children of one route, method and status, looked up once (labels() takes a lock
    and builds a key each call: a tenth of a cached thumbnail's time for the five of them)."""

    __slots__ = ("bytes_in", "bytes_out", "count", "duration", "request_size", "response_size")

    def __init__(self, route: str, method: str, status: int) -> None:
        labels = (route, method, str(status))
        self.count = metrics.http_requests.labels(*labels)
        self.duration = metrics.http_duration.labels(*labels)
        self.request_size = metrics.http_request_size.labels(*labels)
        self.response_size = metrics.http_response_size.labels(*labels)
        ok = status < 300
        self.bytes_in = metrics.uploaded_bytes if ok and (method, route) in UPLOADS else None
        kind = DOWNLOADS.get(route) if ok and method == "GET" else None
        self.bytes_out = metrics.downloaded_bytes.labels(kind) if kind else None

    def record(self, seconds: float, received: int | None, sent: int) -> None:
        self.count.inc()
        self.duration.observe(seconds)
        if received is not None:
            self.request_size.observe(received)
        self.response_size.observe(sent)
        if self.bytes_in is not None and received:
            self.bytes_in.inc(received)
        if self.bytes_out is not None:
            self.bytes_out.inc(sent)
