"""``/api/v1/admin``: live figures, alerts and slow queries, for admins only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from albumen.api.deps import AdminUser
from albumen.domain.monitoring import Alert, Figures, Latency
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
