"""Operations: health, readiness and the job queue."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from albumen.api.deps import CurrentUser, Jobs
from albumen.api.schemas import JobsOut

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers (liveness). Needs no key: load balancers ask it."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, response: Response) -> dict[str, object]:
    """Database, blob store and queue reachable (503 and what is not, otherwise)."""
    failing = await run_in_threadpool(request.app.state.operations.unready)
    response.status_code = 503 if failing else 200
    return {"status": "not ready" if failing else "ready", "failing": failing}


@router.get("/api/v1/jobs", response_model=JobsOut)
def jobs(user: CurrentUser, service: Jobs) -> JobsOut:
    """Queue depth, running and failed work; the caller's photos by status and failures."""
    return JobsOut.of(service.overview(user.id))
