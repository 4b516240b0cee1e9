"""``GET /metrics`` for Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from albumen.api.deps import AdminUser

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
async def exposition(request: Request, _admin: AdminUser) -> Response:
    """Prometheus text format; scrape with an admin's API key as the bearer token."""
    operations = request.app.state.operations
    body = await run_in_threadpool(operations.exposition)
    return Response(body, media_type=operations.EXPOSITION_TYPE)
