"""Live figures of a running Albumen, and the alert rules judged on them.

``Figures`` is what the admin dashboard shows: rates and percentiles over a recent window. The
rules are the same thresholds as ``ops/prometheus/alerts.yml`` (a test keeps the two in step),
so the embedded default warns without a Prometheus server, and a deployment with one warns
alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles in seconds (``None`` where there were no requests)."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


@dataclass(frozen=True, slots=True)
class RouteFigures:
    route: str
    method: str
    requests: int
    rps: float
    error_rate: float
    latency: Latency


@dataclass(frozen=True, slots=True)
class CacheFigures:
    level: str
    hits: int
    misses: int
    hit_ratio: float | None
    get_latency_avg: float | None
    evictions_per_hour: float
    size_bytes: int
    capacity_bytes: int


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything over the last ``window_seconds`` (or since start, when younger)."""

    at: datetime
    window_seconds: float
    requests: int = 0
    rps: float = 0.0
    error_rate: float = 0.0  # 5xx answers over all answers
    latency: Latency = Latency()
    routes: list[RouteFigures] = field(default_factory=list)
    slo_latency: dict[str, Latency] = field(default_factory=dict)  # by objective
    upload_bytes_per_second: float = 0.0
    download_bytes_per_second: float = 0.0
    disk_read_bytes_per_second: float = 0.0
    disk_write_bytes_per_second: float = 0.0
    disk_read_iops: float = 0.0
    disk_write_iops: float = 0.0
    disk_free_bytes: int = 0
    disk_free_ratio: float = 1.0
    caches: list[CacheFigures] = field(default_factory=list)
    db_connections_in_use: int = 0
    db_connections_idle: int = 0
    db_connections_overflow: int = 0
    db_query_latency: Latency = Latency()
    db_queries_per_second: float = 0.0
    slow_queries: int = 0  # in the window
    jobs_queued: int = 0
    jobs_running: int = 0
    job_failures: int = 0  # in the window
    cpu_ratio: float = 0.0
    memory_used_ratio: float = 0.0


class Objective(StrEnum):
    """The latency objectives of the service (docs/operations.md)."""

    UPLOAD = "upload"
    DOWNLOAD = "download"
    SEARCH = "search"
    THUMBNAIL = "thumbnail_generation"
    METADATA = "metadata"


# p95 targets in seconds
SLO_P95: dict[Objective, float] = {
    Objective.UPLOAD: 30.0,
    Objective.DOWNLOAD: 0.5,
    Objective.SEARCH: 1.0,
    Objective.THUMBNAIL: 2.0,
    Objective.METADATA: 0.1,
}
ERROR_RATE_MAX = 0.01
AVAILABILITY_MIN = 0.9999


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Fires when ``value(figures)`` passes ``threshold`` for ``for_minutes`` in a row."""

    name: str
    summary: str
    severity: Severity
    threshold: float
    above: bool
    for_minutes: int
    value: Callable[[Figures], float | None]

    def breached(self, figures: Figures) -> tuple[bool, float | None]:
        value = self.value(figures)
        if value is None:
            return False, None
        return (value > self.threshold if self.above else value < self.threshold), value


@dataclass(frozen=True, slots=True)
class Alert:
    name: str
    summary: str
    severity: Severity
    value: float
    threshold: float
    since: datetime  # when the condition began
    firing: bool  # False while it waits out ``for``


MIN_CACHE_READS = 100  # a hit ratio over fewer reads says nothing


def _p95(objective: Objective) -> Callable[[Figures], float | None]:
    return lambda figures: figures.slo_latency.get(objective, Latency()).p95


def _l1_hit_ratio(figures: Figures) -> float | None:
    for cache in figures.caches:
        if cache.level == "l1" and cache.hits + cache.misses >= MIN_CACHE_READS:
            return cache.hit_ratio
    return None


RULES: tuple[AlertRule, ...] = (
    *(
        AlertRule(
            f"Albumen{objective.title().replace('_', '')}Slow",
            f"p95 {objective.value.replace('_', ' ')} latency above {target:g} s",
            Severity.WARNING,
            target,
            above=True,
            for_minutes=5,
            value=_p95(objective),
        )
        for objective, target in SLO_P95.items()
    ),
    AlertRule(
        "AlbumenHighErrorRate",
        "more than 1% of requests answer 5xx",
        Severity.CRITICAL,
        ERROR_RATE_MAX,
        above=True,
        for_minutes=5,
        value=lambda f: f.error_rate if f.requests else None,
    ),
    AlertRule(
        "AlbumenCacheHitRatioLow",
        "thumbnail cache (L1) hit ratio below 80%",
        Severity.WARNING,
        0.8,
        above=False,
        for_minutes=15,
        value=_l1_hit_ratio,
    ),
    AlertRule(
        "AlbumenHighCpu",
        "host CPU above 90%",
        Severity.WARNING,
        0.9,
        above=True,
        for_minutes=10,
        value=lambda f: f.cpu_ratio,
    ),
    AlertRule(
        "AlbumenQueueBacklog",
        "more than 1000 jobs waiting",
        Severity.WARNING,
        1000,
        above=True,
        for_minutes=15,
        value=lambda f: f.jobs_queued,
    ),
    AlertRule(
        "AlbumenDiskFilling",
        "less than 10% free on the data volume",
        Severity.CRITICAL,
        0.1,
        above=False,
        for_minutes=5,
        value=lambda f: f.disk_free_ratio,
    ),
    AlertRule(
        "AlbumenJobsFailing",
        "more than 5 job failures in the last 5 minutes",
        Severity.WARNING,
        5,
        above=True,
        for_minutes=0,
        value=lambda f: f.job_failures,
    ),
)
