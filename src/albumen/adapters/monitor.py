"""``Sampler``: the registry read every few seconds, turned into ``Figures`` over a window.

Rates and percentiles are computed from two snapshots of the counters and histogram buckets,
the way Prometheus's ``rate()`` and ``histogram_quantile()`` do, so the admin dashboard and
the built-in alerts agree with a Grafana board on the same metrics.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from albumen.adapters import metrics
from albumen.domain.monitoring import (
    CacheFigures,
    Figures,
    Latency,
    Objective,
    RouteFigures,
)

Labels = frozenset[tuple[str, str]]
Match = Callable[[dict[str, str]], bool]
_ALL: Match = lambda labels: True  # noqa: E731
OBJECTIVE_ROUTES = {
    Objective.UPLOAD: metrics.UPLOAD_ROUTES,
    Objective.DOWNLOAD: metrics.DOWNLOAD_ROUTES,
    Objective.SEARCH: metrics.SEARCH_ROUTES,
    Objective.METADATA: metrics.METADATA_ROUTES,
}


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: float  # monotonic seconds
    values: dict[str, dict[Labels, float]]

    def total(self, name: str, match: Match = _ALL) -> float:
        return sum(v for labels, v in self.values.get(name, {}).items() if match(dict(labels)))

    def groups(self, name: str, keys: tuple[str, ...]) -> set[tuple[str, ...]]:
        found = set()
        for labels in self.values.get(name, {}):
            named = dict(labels)
            found.add(tuple(named.get(key, "") for key in keys))
        return found


def take(registry: CollectorRegistry, at: float | None = None) -> Snapshot:
    values: dict[str, dict[Labels, float]] = {}
    for family in registry.collect():
        for sample in family.samples:
            values.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return Snapshot(time.monotonic() if at is None else at, values)


class Window:
    """What changed between two snapshots."""

    def __init__(self, base: Snapshot | None, now: Snapshot) -> None:
        self.base = base or Snapshot(now.at - _uptime(now), {})
        self.now = now
        self.seconds = max(now.at - self.base.at, 1e-9)

    def increase(self, name: str, match: Match = _ALL) -> float:
        return max(self.now.total(name, match) - self.base.total(name, match), 0.0)

    def rate(self, name: str, match: Match = _ALL) -> float:
        return self.increase(name, match) / self.seconds

    def gauge(self, name: str, match: Match = _ALL) -> float:
        return self.now.total(name, match)

    def latency(self, histogram: str, match: Match = _ALL) -> Latency:
        """p50, p95 and p99 of the observations made inside the window."""
        buckets: dict[float, float] = {}
        for snapshot, sign in ((self.now, 1), (self.base, -1)):
            for labels, value in snapshot.values.get(f"{histogram}_bucket", {}).items():
                named = dict(labels)
                if match(named):
                    le = float(named["le"])
                    buckets[le] = buckets.get(le, 0.0) + sign * value
        return Latency(*(quantile(q, buckets) for q in (0.5, 0.95, 0.99)))


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """``histogram_quantile``: linear within the bucket the rank falls in."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    counts = [buckets[b] for b in bounds]
    rank = q * counts[-1]
    index = bisect.bisect_left(counts, rank)
    if index >= len(bounds) - 1 and math.isinf(bounds[-1]):
        return bounds[-2] if len(bounds) > 1 else None  # beyond the largest finite bucket
    upper = bounds[index]
    lower = bounds[index - 1] if index else 0.0
    below = counts[index - 1] if index else 0.0
    inside = counts[index] - below
    return upper if inside <= 0 else lower + (upper - lower) * (rank - below) / inside


def _uptime(snapshot: Snapshot) -> float:
    started = snapshot.total("process_start_time_seconds")
    return max(time.time() - started, 1.0) if started else 1.0


def _routes(routes: set[tuple[str, str]]) -> Match:
    return lambda labels: (labels.get("method", ""), labels.get("route", "")) in routes


def _server_error(labels: dict[str, str]) -> bool:
    return labels.get("status", "").startswith("5")


class Sampler:
    """Keeps a snapshot every ``every`` seconds for ``keep_seconds``; figures over any window
    inside that, always up to this moment."""

    def __init__(
        self, registry: CollectorRegistry, every: float = 10, keep_seconds: float = 900
    ) -> None:
        self.every = every
        self.keep_seconds = keep_seconds
        self._registry = registry
        self._keep = keep_seconds
        self._snapshots: deque[Snapshot] = deque()
        self._lock = threading.Lock()

    def sample(self) -> Snapshot:
        snapshot = take(self._registry)
        with self._lock:
            if not self._snapshots or snapshot.at - self._snapshots[-1].at >= self.every:
                self._snapshots.append(snapshot)
            while self._snapshots and snapshot.at - self._snapshots[0].at > self._keep:
                self._snapshots.popleft()
        return snapshot

    def figures(self, window_seconds: float = 300) -> Figures:
        now = self.sample()
        with self._lock:
            older = [s for s in self._snapshots if now.at - s.at >= 1]
        inside = [s for s in older if now.at - s.at <= window_seconds]
        base = inside[0] if inside else (older[-1] if older else None)
        return figures(Window(base, now))


def figures(w: Window) -> Figures:
    requests = w.increase("albumen_http_requests_total")
    errors = w.increase("albumen_http_requests_total", _server_error)
    free = w.gauge("albumen_host_disk_free_bytes")
    total = w.gauge("albumen_host_disk_total_bytes")
    memory = w.gauge("albumen_host_memory_total_bytes")
    return Figures(
        at=datetime.now(UTC),
        window_seconds=round(w.seconds, 1),
        requests=int(requests),
        rps=requests / w.seconds,
        error_rate=errors / requests if requests else 0.0,
        latency=w.latency("albumen_http_request_duration_seconds"),
        routes=_route_figures(w),
        slo_latency={
            **{
                objective: w.latency("albumen_http_request_duration_seconds", _routes(routes))
                for objective, routes in OBJECTIVE_ROUTES.items()
            },
            Objective.THUMBNAIL: w.latency("albumen_thumbnail_duration_seconds"),
        },
        upload_bytes_per_second=w.rate("albumen_upload_bytes_total"),
        download_bytes_per_second=w.rate("albumen_download_bytes_total"),
        disk_read_bytes_per_second=w.rate("albumen_host_disk_read_bytes_total"),
        disk_write_bytes_per_second=w.rate("albumen_host_disk_written_bytes_total"),
        disk_read_iops=w.rate("albumen_host_disk_reads_total"),
        disk_write_iops=w.rate("albumen_host_disk_writes_total"),
        disk_free_bytes=int(free),
        disk_free_ratio=free / total if total else 1.0,
        caches=_cache_figures(w),
        db_connections_in_use=int(w.gauge("albumen_db_pool_connections", _state("in_use"))),
        db_connections_idle=int(w.gauge("albumen_db_pool_connections", _state("idle"))),
        db_connections_overflow=int(w.gauge("albumen_db_pool_connections", _state("overflow"))),
        db_query_latency=w.latency("albumen_db_query_duration_seconds"),
        db_queries_per_second=w.rate("albumen_db_query_duration_seconds_count"),
        slow_queries=int(w.increase("albumen_db_slow_queries_total")),
        jobs_queued=int(w.gauge("albumen_jobs", _state("queued"))),
        jobs_running=int(w.gauge("albumen_jobs", _state("running"))),
        job_failures=int(w.increase("albumen_job_failures_total")),
        cpu_ratio=w.gauge("albumen_host_cpu_utilization_ratio"),
        memory_used_ratio=w.gauge("albumen_host_memory_used_bytes") / memory if memory else 0.0,
    )


def _state(state: str) -> Match:
    return lambda labels: labels.get("state") == state


def _route_figures(w: Window) -> list[RouteFigures]:
    found = []
    for route, method in w.now.groups("albumen_http_requests_total", ("route", "method")):

        def match(labels: dict[str, str], route: str = route, method: str = method) -> bool:
            return labels.get("route") == route and labels.get("method") == method

        count = w.increase("albumen_http_requests_total", match)
        if not count:
            continue
        errors = w.increase(
            "albumen_http_requests_total", lambda labels: match(labels) and _server_error(labels)
        )
        found.append(
            RouteFigures(
                route,
                method,
                int(count),
                count / w.seconds,
                errors / count,
                w.latency("albumen_http_request_duration_seconds", match),
            )
        )
    return sorted(found, key=lambda r: -r.requests)


def _cache_figures(w: Window) -> list[CacheFigures]:
    found = []
    for (level,) in sorted(w.now.groups("albumen_cache_capacity_bytes", ("level",))):

        def match(labels: dict[str, str], level: str = level) -> bool:
            return labels.get("level") == level

        hits = w.increase("albumen_cache_hits_total", match)
        misses = w.increase("albumen_cache_misses_total", match)
        gets = w.increase(
            "albumen_cache_operation_duration_seconds_count",
            lambda labels: match(labels) and labels.get("operation") == "get",
        )
        get_seconds = w.increase(
            "albumen_cache_operation_duration_seconds_sum",
            lambda labels: match(labels) and labels.get("operation") == "get",
        )
        found.append(
            CacheFigures(
                level,
                int(hits),
                int(misses),
                hits / (hits + misses) if hits + misses else None,
                get_seconds / gets if gets else None,
                w.rate("albumen_cache_evictions_total", match) * 3600,
                int(w.gauge("albumen_cache_size_bytes", match)),
                int(w.gauge("albumen_cache_capacity_bytes", match)),
            )
        )
    return found
