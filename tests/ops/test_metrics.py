"""``/metrics``: what is counted, under which labels, for whom, and that promtool accepts it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from albumen.adapters.metrics import CpuMeter
from albumen.adapters.queue import HueyJobQueue
from albumen.app.services import Services
from tests.conftest import make_jpeg


def scrape(
    client: TestClient, admin: dict[str, str]
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def upload(client: TestClient, auth: dict[str, str], data: bytes) -> str:
    response = client.post("/api/v1/photos", headers=auth, files={"file": ("a.jpg", data)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_metrics_need_an_admin(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    someone = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    assert client.get("/metrics").status_code == 401
    refused = client.get("/metrics", headers=someone)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "admin_only"
    assert client.get("/metrics", headers=admin).status_code == 200


def test_the_first_user_is_the_admin(services: Services) -> None:
    first = services.users.add("first").user
    second = services.users.add("second").user
    made = services.users.add("third", admin=True).user
    assert (first.is_admin, second.is_admin, made.is_admin) == (True, False, True)
    assert services.users.set_admin("second", True).is_admin
    assert not services.users.set_admin("first", False).is_admin


def test_requests_are_counted_by_route_template_not_by_path(
    client: TestClient, services: Services, queue: HueyJobQueue, admin: dict[str, str]
) -> None:
    photo_id = upload(client, admin, make_jpeg(seed=1))
    queue.run_pending()
    before = scrape(client, admin)
    route = "/api/v1/photos/{photo_id}/thumbnail"
    for _ in range(3):
        assert client.get(f"/api/v1/photos/{photo_id}/thumbnail", headers=admin).status_code == 200
    assert client.get("/api/v1/photos/nope/thumbnail", headers=admin).status_code == 404
    assert client.get("/no/such/path", headers=admin).status_code == 404
    after = scrape(client, admin)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"route": route, "method": "GET", "status": "200"}
    assert grew("albumen_http_requests_total", **ok) == 3
    assert grew("albumen_http_request_duration_seconds_count", **ok) == 3
    assert grew("albumen_http_requests_total", **(ok | {"status": "404"})) == 1
    assert grew("albumen_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert not any(photo_id in str(labels) for _, labels in after)
    sent = grew("albumen_http_response_size_bytes_sum", **ok)
    assert sent > 0
    assert grew("albumen_download_bytes_total", kind="thumbnail") == sent


def test_uploads_and_caches_are_measured(
    client: TestClient, services: Services, queue: HueyJobQueue, admin: dict[str, str]
) -> None:
    before = scrape(client, admin)
    data = make_jpeg(seed=2)
    photo_id = upload(client, admin, data)
    queue.run_pending()
    client.get(f"/api/v1/photos/{photo_id}/thumbnail?size=preview", headers=admin)  # a miss
    client.get(f"/api/v1/photos/{photo_id}/thumbnail?size=preview", headers=admin)  # a hit
    after = scrape(client, admin)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("albumen_upload_bytes_total") > len(data)  # the multipart body around it
    assert grew("albumen_cache_misses_total", level="l1") >= 1
    assert grew("albumen_cache_hits_total", level="l1") >= 1
    assert grew("albumen_cache_operation_duration_seconds_count", level="l1", operation="get") >= 2
    assert value(after, "albumen_cache_size_bytes", level="l1") > 0
    assert 0 < value(after, "albumen_cache_hit_ratio", level="l1") < 1
    assert grew("albumen_job_duration_seconds_count", job="process_photo", outcome="done") == 1
    # the WebP set while processing, then a JPEG preview for a client that did not ask for WebP
    assert grew("albumen_thumbnail_duration_seconds_count", format="JPEG") == 2
    assert grew("albumen_db_query_duration_seconds_count", operation="select") > 0
    assert grew("albumen_db_query_duration_seconds_count", operation="insert") > 0


def test_gauges_read_at_scrape_time(client: TestClient, admin: dict[str, str]) -> None:
    samples = scrape(client, admin)
    assert value(samples, "albumen_jobs", state="queued") >= 0
    assert value(samples, "albumen_db_pool_connections", state="in_use") >= 0
    assert value(samples, "albumen_host_memory_total_bytes") > 0
    assert (
        value(samples, "albumen_host_disk_total_bytes")
        > value(samples, "albumen_host_disk_free_bytes")
        > 0
    )
    assert 0 <= value(samples, "albumen_host_cpu_utilization_ratio") <= 1
    assert value(samples, "process_resident_memory_bytes") > 0


def test_promtool_accepts_the_exposition(
    client: TestClient,
    services: Services,
    queue: HueyJobQueue,
    admin: dict[str, str],
    promtool: str,
) -> None:
    photo_id = upload(client, admin, make_jpeg(seed=3))
    queue.run_pending()
    client.get(f"/api/v1/photos/{photo_id}/thumbnail", headers=admin)
    client.get("/api/v1/search", params={"q": "a"}, headers=admin)
    text = client.get("/metrics", headers=admin).text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""  # no lint finding either


WORKER = textwrap.dedent(
    """
    import sys
    from albumen.adapters import metrics
    metrics.http_requests.labels("/api/v1/search", "GET", "200").inc(int(sys.argv[1]))
    metrics.job_failures.labels("process_photo").inc()
    """
)
EXPOSE = textwrap.dedent(
    """
    from pathlib import Path
    from albumen.adapters import metrics
    print(metrics.exposition(metrics.app_registry(metrics.HostCollector(Path.cwd()))).decode())
    """
)


def test_several_processes_add_up(tmp_path: Path) -> None:
    """PROMETHEUS_MULTIPROC_DIR: any process answers with the sum of all of them."""
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for count in ("3", "4"):
        subprocess.run([sys.executable, "-c", WORKER, count], env=env, check=True)
    shown = subprocess.run(
        [sys.executable, "-c", EXPOSE], env=env, check=True, capture_output=True, text=True
    ).stdout
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(shown)
        for s in family.samples
    }
    labels = {"route": "/api/v1/search", "method": "GET", "status": "200"}
    assert value(samples, "albumen_http_requests_total", **labels) == 7
    assert value(samples, "albumen_job_failures_total", job="process_photo") == 2
    assert value(samples, "albumen_host_memory_total_bytes") > 0


def test_a_cpu_reading_right_after_another_is_not_zero() -> None:
    """``psutil.cpu_percent(interval=None)`` is reset by every caller in the process: the
    dashboard's sample taken just after a scrape said 0.0 (the admin page showed CPU 0.0%
    beside a firing CPU alert). A reading within the meter's interval repeats the last."""
    meter = CpuMeter(min_seconds=0.2)
    psutil.cpu_percent(interval=None)
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # this thread keeps one CPU busy meanwhile
        pass
    first = meter.ratio()
    psutil.cpu_percent(interval=None)  # another reader in the process (a scrape)
    assert first > 0
    assert meter.ratio() == first
