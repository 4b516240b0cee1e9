"""The built-in alert evaluator, its webhook, and the percentile arithmetic behind both."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from albumen.adapters.monitor import Sampler, Window, quantile, take
from albumen.adapters.webhook import WebhookNotifier
from albumen.domain.monitoring import RULES, Alert, AlertRule, Figures, Latency, Objective
from albumen.services.alerts import AlertService
from tests.fakes import FakeClock


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[list[str], list[str]]] = []

    def send(self, fired: list[Alert], resolved: list[Alert], now: datetime) -> None:
        self.sent.append(([a.name for a in fired], [a.name for a in resolved]))


def figures(**values: Any) -> Figures:
    return Figures(at=datetime(2026, 1, 1, tzinfo=UTC), window_seconds=300, **values)


def test_an_alert_is_pending_then_fires_then_resolves() -> None:
    clock, notifier = FakeClock(), Recorder()
    current = figures(requests=1000, error_rate=0.05)
    service = AlertService(lambda: current, clock, notifier)

    (pending,) = service.evaluate()
    assert (pending.name, pending.firing) == ("AlbumenHighErrorRate", False)
    clock.advance(minutes=4)
    assert not service.evaluate()[0].firing
    clock.advance(minutes=1)
    (firing,) = service.evaluate()
    assert firing.firing
    assert firing.value == 0.05
    assert notifier.sent == [(["AlbumenHighErrorRate"], [])]

    clock.advance(minutes=1)
    service.evaluate()
    assert len(notifier.sent) == 1  # still firing: not sent again

    current = figures(requests=1000, error_rate=0.001)
    assert service.evaluate() == []
    assert notifier.sent[-1] == ([], ["AlbumenHighErrorRate"])


def test_a_condition_that_ends_before_its_time_never_fires() -> None:
    clock, notifier = FakeClock(), Recorder()
    current = figures(requests=10, error_rate=0.5)
    service = AlertService(lambda: current, clock, notifier)
    service.evaluate()
    current = figures(requests=10, error_rate=0.0)
    clock.advance(minutes=10)
    assert service.evaluate() == []
    assert notifier.sent == []


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"slo_latency": {Objective.SEARCH: Latency(0.2, 1.5, 3.0)}}, "AlbumenSearchSlow"),
        ({"slo_latency": {Objective.METADATA: Latency(0.01, 0.2, 0.3)}}, "AlbumenMetadataSlow"),
        ({"cpu_ratio": 0.95}, "AlbumenHighCpu"),
        ({"jobs_queued": 5000}, "AlbumenQueueBacklog"),
        ({"disk_free_ratio": 0.05}, "AlbumenDiskFilling"),
        ({"job_failures": 6}, "AlbumenJobsFailing"),
    ],
)
def test_each_rule_fires_on_its_figure(values: dict[str, Any], name: str) -> None:
    clock = FakeClock()
    service = AlertService(lambda: figures(**values), clock)
    service.evaluate()
    clock.advance(minutes=30)
    assert [a.name for a in service.evaluate() if a.firing] == [name]


def test_a_cold_cache_fires_only_with_enough_reads() -> None:
    from albumen.domain.monitoring import CacheFigures

    def cache(hits: int, misses: int) -> CacheFigures:
        return CacheFigures("l1", hits, misses, hits / (hits + misses), 1e-6, 0, 0, 1)

    (rule,) = [r for r in RULES if r.name == "AlbumenCacheHitRatioLow"]
    assert rule.breached(figures(caches=[cache(500, 500)])) == (True, 0.5)
    assert rule.breached(figures(caches=[cache(5, 5)])) == (False, None)  # too few to judge
    assert rule.breached(figures(caches=[cache(900, 100)])) == (False, 0.9)


class Hook(BaseHTTPRequestHandler):
    failures_left: ClassVar[int] = 0
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Hook.failures_left:
            Hook.failures_left -= 1
            self.send_response(503)
        else:
            Hook.received.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    Hook.received, Hook.failures_left = [], 2
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/alerts"
    server.shutdown()
    server.server_close()


def alert(name: str = "AlbumenSearchSlow") -> Alert:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    return Alert(name, "p95 search latency above 1 s", RULES[0].severity, 1.5, 1.0, since, True)


def test_the_webhook_gets_alertmanager_json_after_retries(hook: str) -> None:
    notifier = WebhookNotifier(hook, attempts=4, first_delay=0.05)
    notifier.send([alert()], [], datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    deadline = time.monotonic() + 5
    while not Hook.received and time.monotonic() < deadline:
        time.sleep(0.02)
    notifier.close()
    (body,) = Hook.received  # delivered once, on the third try
    assert body["version"] == "4"
    assert body["status"] == "firing"
    (sent,) = body["alerts"]
    assert sent["labels"] == {
        "alertname": "AlbumenSearchSlow",
        "severity": "warning",
        "service": "albumen",
    }
    assert sent["annotations"]["value"] == "1.5"
    assert sent["startsAt"] == "2026-01-01T00:00:00+00:00"


def test_a_dead_webhook_never_holds_up_the_caller() -> None:
    # nothing listens on port 9 here (discard): every post fails and is retried
    notifier = WebhookNotifier("http://127.0.0.1:9/alerts", attempts=50, first_delay=0.5)
    started = time.perf_counter()
    for _ in range(500):  # more than the backlog holds: the oldest are dropped, not waited on
        notifier.send([alert()], [alert("AlbumenHighCpu")], datetime.now(UTC))
    assert time.perf_counter() - started < 2  # a single retry would take longer than that
    notifier.close()


def test_quantiles_interpolate_like_prometheus() -> None:
    # 10 at <= 0.1 s, 80 more by 0.5 s, 10 more by 1 s
    buckets = {0.1: 10.0, 0.5: 90.0, 1.0: 100.0, float("inf"): 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.1 + 0.4 * 40 / 80)
    assert quantile(0.95, buckets) == pytest.approx(0.5 + 0.5 * 5 / 10)
    assert quantile(0.99, {0.1: 0.0, float("inf"): 10.0}) == 0.1  # beyond the last bound
    assert quantile(0.5, {0.1: 0.0, float("inf"): 0.0}) is None


def test_a_window_sees_only_what_happened_inside_it() -> None:
    registry = CollectorRegistry()
    hits = Counter("t_hits", "hits", registry=registry)
    took = Histogram("t_seconds", "time", buckets=(0.1, 1.0), registry=registry)
    hits.inc(100)
    took.observe(5.0)  # before the window: must not count
    base = take(registry, at=0.0)
    hits.inc(30)
    for _ in range(9):
        took.observe(0.05)
    took.observe(0.5)
    window = Window(base, take(registry, at=10.0))
    assert window.increase("t_hits_total") == 30
    assert window.rate("t_hits_total") == 3.0
    latency = window.latency("t_seconds")
    assert latency.p50 == pytest.approx(0.1 * 5 / 9)
    assert latency.p99 is not None
    assert 0.1 < latency.p99 <= 1.0


def test_the_sampler_keeps_a_snapshot_every_interval_only() -> None:
    registry = CollectorRegistry()
    Counter("t_events", "events", registry=registry).inc()
    sampler = Sampler(registry, every=3600)
    for _ in range(50):
        sampler.sample()
    assert len(sampler._snapshots) == 1
    assert sampler.figures().window_seconds > 0


def test_every_rule_has_a_distinct_name() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names)) == 11
    assert all(isinstance(rule, AlertRule) for rule in RULES)
