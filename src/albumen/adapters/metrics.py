"""Prometheus metrics: what Albumen measures, and the registry ``/metrics`` exposes.

The counters and histograms are module-level, as prometheus_client intends: the HTTP layer,
the caches, the database hooks and the job wrapper record into them. Figures that are read
rather than counted (queue depth, pool use, host CPU and disk) come from collectors asked at
scrape time, one set per application, so that each ``Services`` exposes its own.

With several API worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before
they start: each process then writes its samples to memory-mapped files there, and any of them
answers ``/metrics`` with the sum (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    Summary,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from albumen.domain.caching import PrefetchStats
    from albumen.domain.jobs import QueueStats

# The *_created series would double the scrape, and nothing reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus_client
# Every name here is a classic one, so the 0.0.4 text format says it all, to any scraper.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Latency buckets from a cached thumbnail (sub-millisecond) to a 10 MB upload (seconds).
LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
SIZES = tuple(float(4**n) for n in range(4, 16))  # 256 B .. 1 GiB
JOB_DURATION = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)

# The routes behind each latency objective (the alert rules and the dashboard use the same).
UPLOAD_ROUTES = {("POST", "/api/v1/photos")}
DOWNLOAD_ROUTES = {
    ("GET", "/api/v1/photos/{photo_id}/thumbnail"),
    ("GET", "/s/{token}/photos/{photo_id}/thumbnail"),
    ("GET", "/api/v1/photos/{photo_id}/original"),
    ("GET", "/s/{token}/photos/{photo_id}/original"),
}
SEARCH_ROUTES = {("GET", "/api/v1/search")}
METADATA_ROUTES = {("GET", "/api/v1/photos/{photo_id}")}

HTTP_LABELS = ("route", "method", "status")
http_requests = Counter(
    "albumen_http_requests", "HTTP requests answered, by route template.", HTTP_LABELS
)
http_duration = Histogram(
    "albumen_http_request_duration_seconds",
    "Time from the request's arrival to the last byte of its response.",
    HTTP_LABELS,
    buckets=LATENCY,
)
http_request_size = Histogram(
    "albumen_http_request_size_bytes",
    "Request body sizes, of the methods that carry one (not GET or HEAD).",
    HTTP_LABELS,
    buckets=SIZES,
)
http_response_size = Histogram(
    "albumen_http_response_size_bytes", "Response body sizes.", HTTP_LABELS, buckets=SIZES
)
uploaded_bytes = Counter("albumen_upload_bytes", "Bytes received in photo uploads.")
downloaded_bytes = Counter(
    "albumen_download_bytes", "Bytes of photos sent, by kind (original, thumbnail).", ("kind",)
)

job_duration = Histogram(
    "albumen_job_duration_seconds",
    "How long each job ran, by job and outcome (done, skipped, failed).",
    ("job", "outcome"),
    buckets=JOB_DURATION,
)
thumbnail_duration = Histogram(
    "albumen_thumbnail_duration_seconds",
    "Decoding a photo and encoding its thumbnails, by source format.",
    ("format",),
    buckets=LATENCY,
)
job_failures = Counter("albumen_job_failures", "Job runs that raised, by job.", ("job",))
blob_repairs = Counter(
    "albumen_blob_repairs",
    "Blobs rewritten from their other copy, by the store repaired and what was wrong.",
    ("store", "problem"),
)

CACHE_LABELS = ("level",)
cache_hits = Counter("albumen_cache_hits", "Cache reads that found their entry.", CACHE_LABELS)
cache_misses = Counter("albumen_cache_misses", "Cache reads that found nothing.", CACHE_LABELS)
cache_evictions = Counter("albumen_cache_evictions", "Entries dropped to make room.", CACHE_LABELS)
cache_errors = Counter(
    "albumen_cache_errors", "Cache operations that failed (the level was skipped).", CACHE_LABELS
)
# A summary (count and sum: the mean), not a histogram: an in-process read takes about a
# microsecond, and sorting it into buckets cost more than the read.
cache_latency = Summary(
    "albumen_cache_operation_duration_seconds",
    "Cache reads and writes, by level and operation.",
    ("level", "operation"),
)

db_query_duration = Histogram(
    "albumen_db_query_duration_seconds",
    "Database statements, by kind (select, insert, update, delete, other).",
    ("operation",),
    buckets=LATENCY,
)
db_slow_queries = Counter(
    "albumen_db_slow_queries", "Statements slower than ALBUMEN_SLOW_QUERY_MS.", ("operation",)
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class CacheStats:
    """What a cache level knows of itself at scrape time."""

    def __init__(
        self,
        level: str,
        size: Callable[[], int],
        capacity: Callable[[], int],
        hit_ratio: Callable[[], float | None],
    ) -> None:
        self.level = level
        self.size = size
        self.capacity = capacity
        self.hit_ratio = hit_ratio


class AppCollector(Collector):
    """Figures of one application read at scrape time: queue, database pool, caches."""

    def __init__(
        self,
        queue_stats: Callable[[], QueueStats],
        engine: Engine,
        caches: Iterable[CacheStats],
        prefetch: Callable[[], PrefetchStats] | None = None,
    ) -> None:
        self._queue_stats = queue_stats
        self._engine = engine
        self._caches = list(caches)
        self._prefetch = prefetch

    def collect(self) -> Iterator[Metric]:
        yield from self._queue()
        yield from self._pool()
        yield from self._cache()
        if self._prefetch is not None:
            yield from prefetch_metrics(self._prefetch())

    def _queue(self) -> Iterator[Metric]:
        stats = self._queue_stats()
        depth = GaugeMetricFamily(
            "albumen_jobs",
            "Jobs by state: queued, scheduled (retries, delays), running.",
            labels=["state"],
        )
        depth.add_metric(["queued"], stats.pending)
        depth.add_metric(["scheduled"], stats.scheduled)
        depth.add_metric(["running"], stats.running)
        yield depth

    def _pool(self) -> Iterator[Metric]:
        pool = self._engine.pool
        in_use = _call(pool, "checkedout")
        idle = _call(pool, "checkedin")
        overflow = max(_call(pool, "overflow"), 0)
        family = GaugeMetricFamily(
            "albumen_db_pool_connections",
            "Database connections of this process by state (in_use, idle, overflow).",
            labels=["state"],
        )
        family.add_metric(["in_use"], in_use)
        family.add_metric(["idle"], idle)
        family.add_metric(["overflow"], overflow)
        yield family
        yield GaugeMetricFamily(
            "albumen_db_pool_size", "Connections the pool keeps open.", value=_call(pool, "size")
        )

    def _cache(self) -> Iterator[Metric]:
        size = GaugeMetricFamily(
            "albumen_cache_size_bytes", "Bytes held, by cache level.", labels=["level"]
        )
        capacity = GaugeMetricFamily(
            "albumen_cache_capacity_bytes", "Byte budget, by cache level.", labels=["level"]
        )
        ratio = GaugeMetricFamily(
            "albumen_cache_hit_ratio",
            "Hits over reads since this process started, by cache level (a window's ratio is"
            " rate(hits) / (rate(hits) + rate(misses))).",
            labels=["level"],
        )
        for cache in self._caches:
            size.add_metric([cache.level], cache.size())
            capacity.add_metric([cache.level], cache.capacity())
            if (found := cache.hit_ratio()) is not None:
                ratio.add_metric([cache.level], found)
        yield size
        yield capacity
        yield ratio


def prefetch_metrics(stats: PrefetchStats) -> Iterator[Metric]:
    made = CounterMetricFamily(
        "albumen_prefetch_predictions",
        "Predictions made, by kind and what was done (warmed, cached already, shadow: too"
        " unlikely to warm, kept to measure the kind).",
        labels=["kind", "action"],
    )
    for (kind, action), count in sorted(stats.predictions.items()):
        made.add_metric([kind, action], count)
    yield made
    outcomes = CounterMetricFamily(
        "albumen_prefetch_outcomes",
        "Predictions settled: hit (opened within the window) or miss, by kind.",
        labels=["kind", "outcome"],
    )
    for (kind, outcome), count in sorted(stats.outcomes.items()):
        outcomes.add_metric([kind, outcome], count)
    yield outcomes
    sizes = CounterMetricFamily(
        "albumen_prefetch_bytes",
        "Bytes warmed; of them, used (read after), late (read while warming) and wasted"
        " (never read in the window).",
        labels=["state"],
    )
    for state, count in sorted(stats.bytes.items()):
        sizes.add_metric([state], count)
    yield sizes


def _call(pool: object, name: str) -> int:
    method = getattr(pool, name, None)  # SQLite's in-memory pools have no counts
    return int(method()) if callable(method) else 0


class CpuMeter:
    """The host's CPU busy ratio (0 to 1) over the last ``min_seconds`` or more.

    ``psutil.cpu_percent(interval=None)`` measures since its previous call anywhere in the
    process: the dashboard's sampler and a Prometheus scrape reset each other, and a reading
    just after another said 0.0 (the admin page showed "CPU 0.0%" beside a firing CPU alert).
    This keeps its own previous reading, and a reading sooner than ``min_seconds`` after it
    repeats the last ratio."""

    def __init__(self, min_seconds: float = 1.0) -> None:
        self._min_seconds = min_seconds
        self._lock = threading.Lock()
        self._times = psutil.cpu_times()
        self._at = time.monotonic()
        self._ratio = 0.0

    def ratio(self) -> float:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self._min_seconds:
                times = psutil.cpu_times()
                self._ratio = _busy(self._times, times)
                self._times, self._at = times, now
            return self._ratio


def _busy(before: Any, after: Any) -> float:
    """Busy share of the CPU time between two ``psutil.cpu_times()`` (as psutil counts it:
    idle and I/O wait are idle; guest time is already in user time)."""

    def split(times: Any) -> tuple[float, float]:
        fields = times._asdict()
        total = sum(fields.values()) - fields.get("guest", 0.0) - fields.get("guest_nice", 0.0)
        return total, fields["idle"] + fields.get("iowait", 0.0)

    (total_before, idle_before), (total_after, idle_after) = split(before), split(after)
    total = total_after - total_before
    if total <= 0:
        return 0.0
    return min(max((total - (idle_after - idle_before)) / total, 0.0), 1.0)


class HostCollector(Collector):
    """CPU, memory, the data volume's space and I/O, and network bytes of this host (psutil)."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._cpu = CpuMeter()

    def collect(self) -> Iterator[Metric]:
        return host_metrics(self._data_dir, self._cpu)


def host_metrics(data_dir: Path, cpu: CpuMeter) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "albumen_host_cpu_utilization_ratio",
        "Host CPU busy, 0 to 1, over the last second or more.",
        value=cpu.ratio(),
    )
    memory = psutil.virtual_memory()
    yield GaugeMetricFamily(
        "albumen_host_memory_used_bytes",
        "Host memory in use.",
        value=memory.total - memory.available,
    )
    yield GaugeMetricFamily("albumen_host_memory_total_bytes", "Host memory.", value=memory.total)
    disk = psutil.disk_usage(str(data_dir if data_dir.exists() else Path.cwd()))
    yield GaugeMetricFamily(
        "albumen_host_disk_free_bytes", "Free space on the data volume.", value=disk.free
    )
    yield GaugeMetricFamily(
        "albumen_host_disk_total_bytes", "Size of the data volume.", value=disk.total
    )
    io = psutil.disk_io_counters()
    if io is not None:
        for name, text, value in (
            ("albumen_host_disk_reads", "Disk read operations.", io.read_count),
            ("albumen_host_disk_writes", "Disk write operations.", io.write_count),
            ("albumen_host_disk_read_bytes", "Bytes read from disk.", io.read_bytes),
            ("albumen_host_disk_written_bytes", "Bytes written to disk.", io.write_bytes),
        ):
            yield CounterMetricFamily(name, text, value=value)
    net = psutil.net_io_counters()
    yield CounterMetricFamily(
        "albumen_host_network_received_bytes", "Bytes received.", value=net.bytes_recv
    )
    yield CounterMetricFamily(
        "albumen_host_network_sent_bytes", "Bytes sent.", value=net.bytes_sent
    )


class _Shared(Collector):
    """This process's module-level metrics, or every process's in multiprocess mode."""

    def __init__(self) -> None:
        directory = multiprocess_dir()
        if directory:
            self._source: CollectorRegistry = CollectorRegistry()
            MultiProcessCollector(self._source, directory)  # type: ignore[no-untyped-call]  # untyped there
        else:
            self._source = REGISTRY

    def collect(self) -> Iterator[Metric]:
        yield from self._source.collect()


def app_registry(*collectors: Collector) -> CollectorRegistry:
    """The registry one application exposes: the shared metrics plus its own collectors."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in (_Shared(), *collectors):
        registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
