"""Operations: health, readiness and the job queue."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from albumen.api.deps import CurrentUser, Jobs
from albumen.api.schemas import JobsOut

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, response: Response) -> dict[str, str]:
    ready = request.app.state.services.ready()
    response.status_code = 200 if ready else 503
    return {"status": "ready" if ready else "not ready"}


@router.get("/api/v1/jobs", response_model=JobsOut)
def jobs(user: CurrentUser, service: Jobs) -> JobsOut:
    """Queue depth, running and failed work; the caller's photos by status and failures."""
    return JobsOut.of(service.overview(user.id))
