"""The Grafana dashboard and the Prometheus rules in ``ops/``: valid, and about real metrics."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from albumen.domain.monitoring import RULES
from tests.ops.conftest import OPS

DASHBOARD = OPS / "grafana" / "albumen.json"
ALERTS = OPS / "prometheus" / "alerts.yml"
SUFFIXES = {
    "counter": ("",),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("_count", "_sum"),
}
METRIC = re.compile(r"\b((?:albumen|process)_[a-z0-9_]+)")


def exported(client: TestClient, admin: dict[str, str]) -> set[str]:
    """Every series name a scrape of the app can hold (labelled families included, even
    before their first sample)."""
    names: set[str] = set()
    for line in client.get("/metrics", headers=admin).text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split()
            names.update(family + suffix for suffix in SUFFIXES.get(kind, ("",)))
    return names


def dashboard_queries() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]


def alert_rules() -> list[dict[str, object]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_dashboard_query_names_metrics_the_app_exports(
    client: TestClient, admin: dict[str, str]
) -> None:
    names = exported(client, admin)
    queries = dashboard_queries()
    assert len(queries) >= 20
    for title, expr in queries:
        used = set(METRIC.findall(expr))
        assert used, f"{title}: no Albumen metric in {expr}"
        assert used <= names, f"{title}: {sorted(used - names)} is not exported"


def test_the_dashboard_covers_what_an_operator_watches() -> None:
    text = " ".join(expr for _, expr in dashboard_queries())
    for metric in (
        "albumen_http_requests_total",
        "albumen_http_request_duration_seconds_bucket",
        "albumen_cache_hits_total",
        "albumen_jobs",
        "albumen_host_disk_free_bytes",
        "albumen_host_cpu_utilization_ratio",
        "albumen_host_memory_used_bytes",
        "albumen_db_pool_connections",
    ):
        assert metric in text
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, sum by (le, route)" in text


def test_every_alert_names_metrics_the_app_exports(
    client: TestClient, admin: dict[str, str]
) -> None:
    names = exported(client, admin)
    for rule in alert_rules():
        used = set(METRIC.findall(str(rule["expr"])))
        assert used, rule["alert"]
        assert used <= names, (rule["alert"], sorted(used - names))


def test_the_built_in_rules_are_the_prometheus_rules() -> None:
    """Same names, thresholds, durations, severities and words as ops/prometheus/alerts.yml."""
    written = {rule["alert"]: rule for rule in alert_rules()}
    assert set(written) == {rule.name for rule in RULES}
    for rule in RULES:
        mine = written[rule.name]
        comparison = ">" if rule.above else "<"
        expr = " ".join(str(mine["expr"]).split())
        assert re.search(rf"\) {comparison} {rule.threshold:g}\b", expr) or expr.endswith(
            f"{comparison} {rule.threshold:g}"
        ), (rule.name, expr)
        assert str(mine.get("for", "0m")) == f"{rule.for_minutes}m"
        assert mine["labels"] == {"severity": rule.severity.value}
        assert mine["annotations"]["summary"] == rule.summary  # type: ignore[index]  # parsed YAML


def test_promtool_checks_the_rules(promtool: str) -> None:
    checked = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(RULES)} rules found" in checked.stdout


def test_promtool_unit_tests_of_the_rules_pass(promtool: str) -> None:
    tests = ALERTS.with_name("alerts.test.yml")
    ran = subprocess.run(
        [promtool, "test", "rules", tests.name],
        cwd=tests.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "SUCCESS" in ran.stdout


def test_the_example_prometheus_config_is_valid(promtool: str, tmp_path: Path) -> None:
    config = (OPS / "prometheus" / "prometheus.yml").read_text()
    key = tmp_path / "albumen.key"
    key.write_text("alb_example")
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/albumen.key", str(key))
    )
    (tmp_path / "alerts.yml").write_text(ALERTS.read_text())
    checked = subprocess.run(
        [promtool, "check", "config", "prometheus.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("broken", ["> 1", "sum(rate(albumen_http_requests_total[5m]) >"])
def test_promtool_would_catch_a_broken_rule(promtool: str, tmp_path: Path, broken: str) -> None:
    """The check above can fail: a rule file with a bad expression does not pass."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        yaml.safe_dump({"groups": [{"name": "x", "rules": [{"alert": "X", "expr": broken}]}]})
    )
    checked = subprocess.run(
        [promtool, "check", "rules", str(bad)], capture_output=True, text=True, check=False
    )
    assert checked.returncode != 0
