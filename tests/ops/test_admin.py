"""``/api/v1/admin/*``, ``/readyz`` and the slow-query log, through the real app."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from albumen.adapters.queue import HueyJobQueue
from albumen.app.infrastructure import Infrastructure
from albumen.app.operations import Operations
from albumen.app.root import build
from albumen.app.services import Services
from albumen.config import Settings
from albumen.domain.monitoring import Alert, AlertRule, Severity
from albumen.services.alerts import AlertService
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.fakes import FakeClock


@pytest.mark.parametrize("path", ["dashboard", "alerts", "slow-queries"])
def test_admin_routes_need_an_admin(
    client: TestClient, services: Services, admin: dict[str, str], path: str
) -> None:
    someone = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    assert client.get(f"/api/v1/admin/{path}").status_code == 401
    assert client.get(f"/api/v1/admin/{path}", headers=someone).status_code == 403
    assert client.get(f"/api/v1/admin/{path}", headers=admin).status_code == 200


def test_the_dashboard_shows_live_figures(
    client: TestClient, services: Services, queue: HueyJobQueue, admin: dict[str, str]
) -> None:
    client.get("/api/v1/admin/dashboard", headers=admin)  # a first snapshot
    time.sleep(1.1)  # rates are over at least a second
    photo_id = client.post(
        "/api/v1/photos", headers=admin, files={"file": ("a.jpg", make_jpeg(seed=4))}
    ).json()["id"]
    queue.run_pending()
    for _ in range(5):
        client.get(f"/api/v1/photos/{photo_id}/thumbnail", headers=admin)
        client.get("/api/v1/search", params={"q": "a"}, headers=admin)
    client.get("/api/v1/photos/missing", headers=admin)

    board = client.get("/api/v1/admin/dashboard", headers=admin).json()

    assert board["timestamp"]
    api = board["api"]
    assert api["requests"] >= 12
    assert api["rps"] > 0
    assert api["error_rate"] == 0  # a 404 is the client's error, not the service's
    assert 0 < api["latency_ms"]["p50"] <= api["latency_ms"]["p95"] <= api["latency_ms"]["p99"]
    routes = {(r["method"], r["route"]): r for r in api["routes"]}
    assert routes[("GET", "/api/v1/search")]["requests"] == 5
    assert routes[("GET", "/api/v1/photos/{photo_id}/thumbnail")]["requests"] == 5
    assert api["objectives_p95_ms"]["search"] > 0
    assert api["objectives_p95_ms"]["thumbnail_generation"] > 0
    assert board["storage"]["upload_bytes_per_second"] > 0
    assert board["storage"]["free_bytes"] > 0
    (l1,) = board["cache"]
    assert l1["level"] == "l1"
    assert l1["hits"] >= 4
    assert 0 < l1["hit_ratio"] <= 1
    assert l1["size_bytes"] > 0
    database = board["database"]
    assert database["queries_per_second"] > 0
    assert database["query_latency_ms"]["p95"] > 0
    assert set(database["connections"]) == {"in_use", "idle", "overflow"}
    assert board["jobs"] == {"queued": 0, "running": 0, "failures": 0}
    assert 0 <= board["host"]["cpu_ratio"] <= 1
    assert board["alerts"] == []


def test_alerts_show_what_fires(
    client: TestClient, services: Services, operations: Operations, admin: dict[str, str]
) -> None:
    always = AlertRule(
        "AlbumenTestBusy", "answered anything", Severity.WARNING, 0, True, 0, lambda f: f.requests
    )
    later = AlertRule(
        "AlbumenTestPending", "waits ten minutes", Severity.WARNING, 0, True, 10, lambda f: 1.0
    )
    alerts = AlertService(operations.sampler.figures, FakeClock(), rules=[always, later])
    app = client.app
    assert isinstance(app, FastAPI)
    app.state.operations = dataclasses.replace(operations, alerts=alerts)  # the server's, swapped
    client.get("/healthz")
    alerts.evaluate()

    shown = client.get("/api/v1/admin/alerts", headers=admin).json()

    states = {alert["name"]: alert["state"] for alert in shown["alerts"]}
    assert states == {"AlbumenTestBusy": "firing", "AlbumenTestPending": "pending"}
    assert [rule["name"] for rule in shown["rules"]] == ["AlbumenTestBusy", "AlbumenTestPending"]


def test_the_real_rules_are_listed_and_quiet_on_a_healthy_instance(
    client: TestClient, services: Services, operations: Operations, admin: dict[str, str]
) -> None:
    operations.sampler.sample()  # the window starts here, not at other tests' requests
    time.sleep(1.05)  # a window's start must be a second old
    client.get("/healthz")
    active = operations.alerts.evaluate()
    assert [a.name for a in active if a.name != "AlbumenHighCpu"] == []  # CPU is the machine's
    rules = client.get("/api/v1/admin/alerts", headers=admin).json()["rules"]
    assert {"AlbumenSearchSlow", "AlbumenHighErrorRate", "AlbumenDiskFilling"} <= {
        r["name"] for r in rules
    }


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"slow_query_ms": 30})


SLOW = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 400000)"
    " SELECT x FROM n WHERE x % :every = 0"
)


def test_a_slow_query_is_kept_with_its_plan_and_rows(
    client: TestClient, services: Services, engine: Engine, admin: dict[str, str]
) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).all()  # the connection's setup is not the query's time
        result = conn.execute(text(SLOW), {"every": 1000})
        first = result.fetchone()  # execute() and the first row: the loop is at 1000 of 400,000
        started = time.perf_counter()
        rows = [first, *result.all()]
        fetching = time.perf_counter() - started
    assert len(rows) == 400

    shown = client.get("/api/v1/admin/slow-queries", headers=admin).json()

    assert shown["threshold_ms"] == 30
    (query,) = [q for q in shown["queries"] if "RECURSIVE" in q["statement"]]
    assert query["rows"] == 400
    # timed until the rows were read: the fetching after the first row is in it
    assert query["duration_ms"] >= 0.8 * fetching * 1000
    assert any("SCAN n" in step for step in query["plan"])
    assert query["full_scans"]
    assert "1000" not in query["statement"]  # parameters are never kept


def test_fast_queries_are_not_kept(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    client.get("/api/v1/photos", headers=admin)
    shown = client.get("/api/v1/admin/slow-queries", headers=admin).json()
    assert [q for q in shown["queries"] if "photos" in q["statement"]] == []


def test_ready_lists_what_cannot_be_reached(
    client: TestClient, services: Services, infrastructure: Infrastructure, settings: Settings
) -> None:
    assert client.get("/readyz").json() == {"status": "ready", "failing": []}
    staging = infrastructure.stores.staging_dir
    shutil.rmtree(staging)
    staging.write_text("not a folder")  # the blob store can take no write
    try:
        response = client.get("/readyz")
    finally:
        staging.unlink()
        staging.mkdir()
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "failing": ["blob_store"]}
    assert client.get("/healthz").status_code == 200


def test_the_server_samples_and_judges_in_the_background(settings: Settings) -> None:
    from albumen.app.root import build, monitoring

    fast = settings.model_copy(update={"alert_interval_seconds": 0.05})
    built = build(fast)
    built.operations.sampler.every = 0.02
    judged = threading.Semaphore(0)
    evaluate = built.operations.alerts.evaluate

    def counted() -> list[Alert]:
        judged.release()
        return evaluate()

    built.operations.alerts.evaluate = counted  # type: ignore[method-assign]  # counts the calls
    try:
        with monitoring(built.operations, fast.alert_interval_seconds):
            # three judgements, however slow a shared CI machine is today
            assert all(judged.acquire(timeout=30) for _ in range(3))
    finally:
        built.close()
    assert len(built.operations.sampler._snapshots) >= 3


def test_the_cache_optimizer_recommends_with_reasons_and_applies(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        run_workers_in_server=False,
        analysis=False,
    )
    built = build(settings)
    try:
        with TestClient(create_app(settings, built)) as client:
            admin = {"Authorization": f"Bearer {built.services.users.add('root').secret}"}
            ids = [upload(client, admin, make_jpeg(seed=80 + n)).json()["id"] for n in range(4)]
            built.infrastructure.queue.run_pending()
            thumb = client.get(f"/api/v1/photos/{ids[0]}/thumbnail", headers=admin).content
            room = int(len(thumb) * 1.5) + 100
            # about one thumbnail: most reads miss
            built.infrastructure.thumbnail_cache.resize(room)
            built.operations.sampler.sample()
            for n in range(600):
                client.get(f"/api/v1/photos/{ids[n % 4]}/thumbnail", headers=admin)
            built.operations.sampler.sample()
            shown = client.get("/api/v1/admin/cache", headers=admin).json()
            (l1,) = [level for level in shown["levels"] if level["level"] == "l1"]
            assert l1["hit_ratio"] < 0.8
            (rec,) = shown["recommendations"]
            assert (rec["level"], rec["setting"], rec["current"], rec["proposed"]) == (
                "l1",
                "capacity_bytes",
                room,
                int(room * 1.5),
            )
            assert "under 80%" in rec["reason"]
            applied = client.post("/api/v1/admin/cache/apply", headers=admin).json()
            assert [a["proposed"] for a in applied["applied"]] == [int(room * 1.5)]
            assert built.infrastructure.thumbnail_cache.max_bytes == int(room * 1.5)
            member = {"Authorization": f"Bearer {built.services.users.add('bob').secret}"}
            assert client.get("/api/v1/admin/cache", headers=member).status_code == 403
    finally:
        built.close()
