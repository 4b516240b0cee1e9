"""``albumen loadtest`` end to end: a server, Locust, the report, the verdict and the chart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

OPERATIONS = {
    "peak_upload": {"upload", "metadata", "album", "search"},
    "global_read": {"thumbnail", "search", "original", "timeline", "preview"},
}
COMMON = {"peak_upload": {"upload", "metadata"}, "global_read": {"thumbnail"}}  # always in 6 s


@pytest.mark.parametrize("scenario", sorted(OPERATIONS))
def test_a_short_run_reports_every_operation_and_objective(tmp_path: Path, scenario: str) -> None:
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "albumen", "loadtest", "--scenario", scenario,
         "--users", "3", "--duration", "6s", "--accounts", "1", "--seed-photos", "4",
         "--upload-mb", "0.2", "--out", str(out)],
        env=os.environ | {"ALBUMEN_ANALYSIS": "false"},
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    verdicts = {v["objective"]: v["passed"] for v in report["slo"]}
    # The objectives are the machine's speed, judged by the report, not by this test (a busy
    # CI machine missed the 100 ms metadata p95 once): the exit status must say what the
    # report says, and every verdict must be there, measured.
    assert done.returncode == (1 if False in verdicts.values() else 0), done.stdout + done.stderr
    for verdict in report["slo"]:
        assert verdict["passed"] in (True, False, None)
        assert verdict["target"]
        assert verdict["measured"]  # a figure, or "not exercised"

    assert report["scenario"] == scenario
    assert report["users"] == 3
    assert COMMON[scenario] <= set(report["operations"]) <= OPERATIONS[scenario]
    overall = report["overall"]
    assert overall["total"] > 10
    assert overall["failed"] == 0
    assert overall["total"] == sum(op["total"] for op in report["operations"].values())
    for op in report["operations"].values():
        assert op["p50_ms"] <= op["p95_ms"] <= op["p99_ms"]
        assert op["rps"] > 0
    assert verdicts["error_rate"] is True  # nothing failed: not a matter of speed
    assert verdicts["availability"] is True
    assert (verdicts["search"] is None) == ("search" not in report["operations"])
    if scenario == "global_read":
        assert verdicts["download"] is not None
        assert 0 < report["server"]["cache_hit_ratio"] <= 1
    else:
        assert verdicts["upload"] is not None
        assert verdicts["metadata"] is not None
        assert report["server"]["thumbnails_generated"] >= 0
    assert (out / "latency.png").read_bytes().startswith(b"\x89PNG")
    assert "service-level objectives" in done.stdout


def test_an_unknown_scenario_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "albumen", "loadtest", "--scenario", "stampede",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "peak_upload, global_read" in done.stderr
