"""The load test's results: per operation and overall, the SLO verdict, and a chart.

Client-side figures come from Locust's CSV files (``*_stats.csv`` for the whole run,
``*_stats_history.csv`` second by second); server-side ones (the cache hit ratio, thumbnail
generation) from the difference of two scrapes of ``/metrics``.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from albumen.adapters.monitor import Snapshot, Window
from albumen.domain.monitoring import AVAILABILITY_MIN, ERROR_RATE_MAX, SLO_P95, Objective

AGGREGATED = "Aggregated"
# which operation of the scenarios measures which objective
OBJECTIVE_OPERATIONS = {
    Objective.UPLOAD: ("upload",),
    Objective.DOWNLOAD: ("thumbnail", "preview", "original"),
    Objective.SEARCH: ("search",),
    Objective.METADATA: ("metadata", "timeline"),
}


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    total: int
    successful: int
    failed: int
    avg_ms: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    rps: float
    error_rate: float


@dataclass(frozen=True, slots=True)
class Verdict:
    objective: str
    target: str
    measured: str
    passed: bool | None  # None: the scenario did not exercise it


def operations(stats_csv: Path) -> tuple[dict[str, Operation], Operation]:
    """Each operation's figures, and the whole run's."""
    found: dict[str, Operation] = {}
    overall = None
    with stats_csv.open() as file:
        for row in csv.DictReader(file):
            total, failed = int(row["Request Count"]), int(row["Failure Count"])
            operation = Operation(
                name=row["Name"],
                total=total,
                successful=total - failed,
                failed=failed,
                avg_ms=round(float(row["Average Response Time"]), 2),
                p50_ms=_number(row["50%"]),
                p95_ms=_number(row["95%"]),
                p99_ms=_number(row["99%"]),
                rps=round(float(row["Requests/s"]), 2),
                error_rate=failed / total if total else 0.0,
            )
            if row["Name"] == AGGREGATED:
                overall = operation
            else:
                found[row["Name"]] = operation
    if overall is None:
        raise ValueError(f"{stats_csv} has no {AGGREGATED} row: did Locust run?")
    return found, overall


def _number(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


def server_figures(before: Snapshot, after: Snapshot) -> dict[str, float | None]:
    window = Window(before, after)

    def ratio(level: str) -> tuple[float | None, float]:
        hits = window.increase("albumen_cache_hits_total", lambda labels: labels["level"] == level)
        misses = window.increase(
            "albumen_cache_misses_total", lambda labels: labels["level"] == level
        )
        return (hits / (hits + misses) if hits + misses else None), hits + misses

    l1, l1_reads = ratio("l1")
    l2, l2_reads = ratio("l2")

    def prefetched(state: str) -> float:
        return window.increase("albumen_prefetch_bytes_total", lambda lb: lb["state"] == state)

    thumbnails = window.latency("albumen_thumbnail_duration_seconds")
    return {
        "cache_hit_ratio": l1,
        "cache_reads": l1_reads,
        "l2_hit_ratio": l2,
        "l2_reads": l2_reads,
        "prefetch_warmed_bytes": prefetched("warmed"),
        "prefetch_used_bytes": prefetched("used"),
        "prefetch_late_bytes": prefetched("late"),
        "prefetch_wasted_bytes": prefetched("wasted"),
        "thumbnail_generation_p95_ms": (
            None if thumbnails.p95 is None else round(thumbnails.p95 * 1000, 1)
        ),
        "thumbnails_generated": window.increase("albumen_thumbnail_duration_seconds_count"),
        "jobs_queued_at_end": window.gauge(
            "albumen_jobs", lambda labels: labels["state"] == "queued"
        ),
        "jobs_failed": window.increase("albumen_job_failures_total"),
    }


def verdicts(
    ops: dict[str, Operation], overall: Operation, server: dict[str, float | None]
) -> list[Verdict]:
    found = []
    for objective, names in OBJECTIVE_OPERATIONS.items():
        p95s = [ops[name].p95_ms for name in names if name in ops and ops[name].total]
        measured = max((p for p in p95s if p is not None), default=None)
        found.append(_latency(objective, measured))
    found.append(_latency(Objective.THUMBNAIL, server.get("thumbnail_generation_p95_ms")))
    availability = overall.successful / overall.total if overall.total else None
    found.append(
        Verdict(
            "availability",
            f">= {AVAILABILITY_MIN:.2%}",
            "-" if availability is None else f"{availability:.3%}",
            None if availability is None else availability >= AVAILABILITY_MIN,
        )
    )
    found.append(
        Verdict(
            "error_rate",
            f"< {ERROR_RATE_MAX:.0%}",
            f"{overall.error_rate:.3%}",
            overall.error_rate < ERROR_RATE_MAX if overall.total else None,
        )
    )
    return found


def _latency(objective: Objective, p95_ms: float | None) -> Verdict:
    target = SLO_P95[objective] * 1000
    if p95_ms is None:
        return Verdict(objective.value, f"p95 < {target:g} ms", "not exercised", None)
    return Verdict(objective.value, f"p95 < {target:g} ms", f"{p95_ms:g} ms", p95_ms < target)


def report(
    scenario: str,
    settings: dict[str, Any],
    ops: dict[str, Operation],
    overall: Operation,
    server: dict[str, float | None],
) -> dict[str, Any]:
    return {
        "scenario": scenario,
        **settings,
        "operations": {name: asdict(op) for name, op in sorted(ops.items())},
        "overall": asdict(overall),
        "server": server,
        "slo": [asdict(verdict) for verdict in verdicts(ops, overall, server)],
    }


def chart(history_csv: Path, png: Path, title: str) -> None:
    """Latency percentiles and throughput over the run, second by second."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times: list[float] = []
    series: dict[str, list[float]] = {"50%": [], "95%": [], "99%": [], "Requests/s": []}
    with history_csv.open() as file:
        rows = [r for r in csv.DictReader(file) if r["Name"] == AGGREGATED and r["50%"] != "N/A"]
    start = float(rows[0]["Timestamp"]) if rows else 0.0
    for row in rows:
        times.append(float(row["Timestamp"]) - start)
        for key, values in series.items():
            values.append(float(row[key]))
    figure, latency = plt.subplots(figsize=(10, 5))
    for key, colour in (("50%", "tab:green"), ("95%", "tab:orange"), ("99%", "tab:red")):
        latency.plot(times, series[key], label=f"p{key.rstrip('%')}", color=colour)
    latency.set_xlabel("seconds into the run")
    latency.set_ylabel("latency (ms)")
    throughput = latency.twinx()
    throughput.plot(times, series["Requests/s"], label="requests/s", color="tab:blue", alpha=0.5)
    throughput.set_ylabel("requests per second")
    handles = latency.get_legend_handles_labels()[0] + throughput.get_legend_handles_labels()[0]
    latency.legend(handles, [str(h.get_label()) for h in handles], loc="upper left")
    latency.set_title(title)
    figure.tight_layout()
    figure.savefig(png, dpi=100)
    plt.close(figure)
