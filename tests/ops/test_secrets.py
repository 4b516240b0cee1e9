"""No credential from the settings reaches what a person or a scraper sees: the metrics, the
admin pages, error bodies and the logs (``config show`` is checked in tests/unit and e2e)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from albumen.app.root import build
from albumen.config import Settings
from albumen.web import create_app

MARKER = "m4rk3r-0f-a-s3cret"


@pytest.fixture
def marked(tmp_path: Path) -> Settings:
    """An embedded library whose every credential-bearing setting that works without a
    server of its own carries the marker (the Redis, PostgreSQL and S3 ones need their
    servers; their masking is the same code, checked on its own)."""
    return Settings(
        data_dir=tmp_path / "data",
        run_workers_in_server=False,
        analysis=False,
        secret_key=MARKER,
        alert_webhook_url=f"http://127.0.0.1:9/hook?token={MARKER}",
        mirror_url=f"{(tmp_path / 'mirror').as_uri()}?key={MARKER}",
        warm_storage_url=f"{(tmp_path / 'warm').as_uri()}?signature={MARKER}",
        database_replica_urls=[f"postgresql+psycopg://app:{MARKER}@replica/albumen"],
    )


@pytest.fixture
def served(marked: Settings) -> Iterator[tuple[TestClient, str]]:
    """The app, and an admin's key."""
    built = build(marked)
    key = built.services.users.add("root", admin=True).secret
    with TestClient(create_app(marked, built)) as test_client:
        yield test_client, key
    built.close()


def test_no_credential_in_metrics_admin_pages_errors_or_logs(
    served: tuple[TestClient, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, key = served
    admin = {"Authorization": f"Bearer {key}"}
    shown = [
        client.get(path, headers=admin)
        for path in (
            "/metrics",
            "/api/v1/admin/dashboard",
            "/api/v1/admin/alerts",
            "/api/v1/admin/cache",
            "/api/v1/admin/slow-queries",
            "/readyz",
            "/api/v1/photos/no-such-photo",
            "/api/v1/jobs",
        )
    ]
    shown.append(client.get("/api/v1/photos", headers={"Authorization": "Bearer wrong"}))
    assert [answer.status_code for answer in shown] == [200] * 6 + [404, 200, 401]
    for answer in shown:
        assert MARKER not in answer.text
        assert MARKER not in str(answer.headers)
    assert MARKER not in caplog.text
    assert caplog.records  # the server did log
