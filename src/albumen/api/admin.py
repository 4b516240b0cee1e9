"""``/api/v1/admin``: live figures, alerts and slow queries, and the users' accounts, for
admins only."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from albumen.api.deps import AdminUser, Jobs, Users
from albumen.api.openapi import errors
from albumen.api.schemas import Body
from albumen.domain import limits
from albumen.domain.monitoring import Alert, Figures, Latency
from albumen.domain.users import Account
from albumen.services.caching import CacheReport

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def _operations(request: Request) -> Any:
    return request.app.state.operations  # albumen.app.operations.Operations (a layer above)


@router.get("/dashboard")
async def dashboard(
    request: Request,
    _admin: AdminUser,
    window: float = Query(300, ge=10, le=900, description="Seconds the rates look back."),
) -> dict[str, Any]:
    """The figures of the Grafana dashboard, live from this process, as JSON."""
    operations = _operations(request)
    figures = await run_in_threadpool(operations.sampler.figures, window)
    return dashboard_json(figures, operations.alerts.active())


@router.get("/alerts")
async def alerts(request: Request, _admin: AdminUser) -> dict[str, Any]:
    """Alerts pending or firing now, as of the last evaluation, and the rules behind them."""
    operations = _operations(request)
    return {
        "alerts": [_alert(alert) for alert in operations.alerts.active()],
        "rules": [
            {
                "name": rule.name,
                "summary": rule.summary,
                "severity": rule.severity.value,
                "threshold": rule.threshold,
                "above": rule.above,
                "for_minutes": rule.for_minutes,
            }
            for rule in operations.alerts.rules
        ],
    }


@router.get("/cache")
async def cache(request: Request, _admin: AdminUser) -> dict[str, Any]:
    """Every cache level's figures over the last 15 minutes, the optimizer's recommendations
    with their reasons, and what it changed."""
    report = await run_in_threadpool(_operations(request).optimizer.report)
    return _cache_json(report, _operations(request).optimizer.auto_apply)


@router.post("/cache/apply")
async def apply_cache(request: Request, _admin: AdminUser) -> dict[str, Any]:
    """Carry out the optimizer's recommendations now (in this process, and in Redis)."""
    optimizer = _operations(request).optimizer
    applied = await run_in_threadpool(optimizer.apply)
    return {"applied": [asdict(rec) for rec in applied]}


def _cache_json(report: CacheReport, auto_apply: bool) -> dict[str, Any]:
    settings = {level.level: level for level in report.levels}
    return {
        "auto_apply": auto_apply,
        "levels": [
            {
                "level": f.level,
                "hits": f.hits,
                "misses": f.misses,
                "hit_ratio": f.hit_ratio,
                "latency_ms": None if f.get_latency_avg is None else f.get_latency_avg * 1000,
                "evictions_per_hour": f.evictions_per_hour,
                "size_bytes": f.size_bytes,
                "capacity_bytes": f.capacity_bytes,
                "ceiling_bytes": settings[f.level].ceiling_bytes if f.level in settings else None,
                "ttl_seconds": settings[f.level].ttl_seconds if f.level in settings else None,
            }
            for f in report.figures
        ],
        "recommendations": [asdict(rec) for rec in report.recommendations],
        "applied": [asdict(rec) for rec in report.applied],
    }


@router.get("/slow-queries")
async def slow_queries(
    request: Request, _admin: AdminUser, limit: int = Query(50, ge=1, le=200)
) -> dict[str, Any]:
    """Database statements over ``ALBUMEN_SLOW_QUERY_MS``, newest first, with their plans."""
    operations = _operations(request)
    return {
        "threshold_ms": operations.queries.slow_seconds * 1000,
        "queries": [
            {
                "at": query.at.isoformat(),
                "duration_ms": round(query.seconds * 1000, 2),
                "rows": query.rows,
                "statement": query.statement,
                "plan": list(query.plan),
                "indexes": query.indexes,
                "full_scans": query.full_scans,
            }
            for query in operations.queries.slow()[:limit]
        ],
    }


class FailedOut(BaseModel):
    failed: int = Field(description="Photos of every user that could not be processed.")


class RetriedOut(BaseModel):
    queued: int = Field(description="Failed photos queued to be processed again.")


@router.get("/jobs", response_model=FailedOut)
def failed_jobs(_admin: AdminUser, jobs: Jobs) -> FailedOut:
    """How many photos, of every user, failed to be processed."""
    return FailedOut(failed=jobs.failed())


@router.post("/jobs/retry", response_model=RetriedOut)
def retry_jobs(_admin: AdminUser, jobs: Jobs) -> RetriedOut:
    """Process every failed photo again (10,000 at a time): after an upgrade that reads what
    could not be read before, or a fault taken for bad media. Each is pending until its job
    runs; one that fails again says why, as before."""
    return RetriedOut(queued=jobs.retry_failed())


class AccountOut(BaseModel):
    id: str
    name: str
    is_admin: bool
    disabled: bool
    has_password: bool = Field(description="Whether they can sign in to the web app.")
    created_at: datetime
    photos: int = Field(description="Their photos, the trash's too.")
    bytes: int = Field(description="The size of their originals.")

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        user = account.user
        return cls(
            id=user.id,
            name=user.name,
            is_admin=user.is_admin,
            disabled=user.disabled,
            has_password=account.has_password,
            created_at=user.created_at.replace(tzinfo=UTC),
            photos=account.photos,
            bytes=account.bytes,
        )


class AccountIn(Body):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=limits.NAME)
    password: str | None = Field(None, min_length=8, max_length=200)
    admin: bool = False


class AccountPatch(Body):
    model_config = ConfigDict(extra="forbid")

    admin: bool | None = None
    disabled: bool | None = Field(
        None, description="A disabled user cannot sign in or use a key; their photos stay."
    )
    password: str | None = Field(
        None, min_length=8, max_length=200, description="A new password: signs them out."
    )


class DeletedOut(BaseModel):
    name: str
    photos: int = Field(description="Their photos, deleted with them.")
    bytes: int = Field(description="Their originals' size: freed once no one else refers to it.")


@router.get("/users", response_model=list[AccountOut])
def accounts(_admin: AdminUser, users: Users) -> list[AccountOut]:
    """Every user, by name, with their photos and the size of their originals."""
    return [AccountOut.of(account) for account in users.accounts()]


@router.post("/users", status_code=201, response_model=AccountOut, responses=errors(400, 409))
def create_account(body: AccountIn, _admin: AdminUser, users: Users) -> AccountOut:
    """A new user who signs in with ``password`` (without one: keys only, `albumen users key`).
    409 ``user_exists``."""
    user = users.create(body.name, body.password, body.admin)
    return AccountOut.of(next(a for a in users.accounts() if a.user.id == user.id))


@router.patch("/users/{user_id}", response_model=AccountOut, responses=errors(400, 409))
def manage_account(user_id: str, body: AccountPatch, admin: AdminUser, users: Users) -> AccountOut:
    """Make or unmake an admin, disable or enable, reset the password (signing them out
    everywhere). 409 ``own_account`` for an admin's own demotion or disabling (so an instance
    always keeps an admin who can sign in)."""
    user = users.manage(
        admin, user_id, is_admin=body.admin, disabled=body.disabled, password=body.password
    )
    return AccountOut.of(next(a for a in users.accounts() if a.user.id == user.id))


@router.delete("/users/{user_id}", response_model=DeletedOut, responses=errors(400, 409))
def delete_account(
    user_id: str,
    admin: AdminUser,
    users: Users,
    confirm: Annotated[str, Query(description="The user's name, typed to confirm.")],
) -> DeletedOut:
    """Delete the user and everything theirs, in one transaction: photos, albums (and the
    links and members of them), people, keys and sessions. Albums of others keep nothing of
    theirs; the originals' blobs go at the next sweep once no other photo refers to them.
    400 ``confirm_name`` unless ``confirm`` is their name; 409 ``own_account`` for oneself."""
    gone = users.delete(admin, user_id, confirm)
    return DeletedOut(name=gone.user.name, photos=gone.photos, bytes=gone.bytes)


def _ms(latency: Latency) -> dict[str, float | None]:
    return {
        name: None if value is None else round(value * 1000, 2)
        for name, value in (("p50", latency.p50), ("p95", latency.p95), ("p99", latency.p99))
    }


def _alert(alert: Alert) -> dict[str, Any]:
    return {
        "name": alert.name,
        "summary": alert.summary,
        "severity": alert.severity.value,
        "state": "firing" if alert.firing else "pending",
        "value": alert.value,
        "threshold": alert.threshold,
        "since": alert.since.isoformat(),
    }


def dashboard_json(f: Figures, active: list[Alert]) -> dict[str, Any]:
    return {
        "timestamp": f.at.isoformat(),
        "window_seconds": f.window_seconds,
        "api": {
            "requests": f.requests,
            "rps": round(f.rps, 3),
            "error_rate": f.error_rate,
            "latency_ms": _ms(f.latency),
            "objectives_p95_ms": {str(k): _ms(v)["p95"] for k, v in f.slo_latency.items()},
            "routes": [
                {
                    "route": r.route,
                    "method": r.method,
                    "requests": r.requests,
                    "rps": round(r.rps, 3),
                    "error_rate": r.error_rate,
                    "latency_ms": _ms(r.latency),
                }
                for r in f.routes
            ],
        },
        "storage": {
            "upload_bytes_per_second": f.upload_bytes_per_second,
            "download_bytes_per_second": f.download_bytes_per_second,
            "read_bytes_per_second": f.disk_read_bytes_per_second,
            "write_bytes_per_second": f.disk_write_bytes_per_second,
            "read_iops": round(f.disk_read_iops, 2),
            "write_iops": round(f.disk_write_iops, 2),
            "free_bytes": f.disk_free_bytes,
            "free_ratio": f.disk_free_ratio,
        },
        "cache": [
            {
                "level": c.level,
                "hits": c.hits,
                "misses": c.misses,
                "hit_ratio": c.hit_ratio,
                "latency_ms": None if c.get_latency_avg is None else c.get_latency_avg * 1000,
                "evictions_per_hour": c.evictions_per_hour,
                "size_bytes": c.size_bytes,
                "capacity_bytes": c.capacity_bytes,
            }
            for c in f.caches
        ],
        "database": {
            "connections": {
                "in_use": f.db_connections_in_use,
                "idle": f.db_connections_idle,
                "overflow": f.db_connections_overflow,
            },
            "queries_per_second": round(f.db_queries_per_second, 2),
            "query_latency_ms": _ms(f.db_query_latency),
            "slow_queries": f.slow_queries,
        },
        "jobs": {"queued": f.jobs_queued, "running": f.jobs_running, "failures": f.job_failures},
        "host": {"cpu_ratio": f.cpu_ratio, "memory_used_ratio": f.memory_used_ratio},
        "alerts": [_alert(alert) for alert in active],
    }
