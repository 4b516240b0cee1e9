"""Rate limits count the connection's own address: ``X-Forwarded-For`` is believed only from
the proxies ``ALBUMEN_TRUSTED_PROXIES`` names, none by default (#21, item 5).

uvicorn trusts one forwarded address from 127.0.0.1 unless told otherwise, so a client on the
same host reset the sign-in and share-password lockouts by changing the header each try.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.live import LiveServer

pytestmark = pytest.mark.slow
PASSWORD = "a long enough password"


def _wrong_sign_ins(tmp_path: Path, tries: int, **env: str) -> list[int]:
    server = LiveServer(tmp_path / "data", ALBUMEN_SIGN_IN_ATTEMPTS="3 per 15 minutes", **env)
    server.cli("users", "add", "alice")
    server.cli("users", "passwd", "alice", "--password", PASSWORD)
    server.start()
    try:
        return [
            requests.post(
                f"{server.url}/api/v1/session",
                json={"username": "alice", "password": "not the password"},
                headers={"X-Forwarded-For": f"203.0.113.{n}", "Origin": server.url},
                timeout=30,
            ).status_code
            for n in range(tries)
        ]
    finally:
        server.stop()


def test_a_forwarded_address_from_a_client_changes_nothing(tmp_path: Path) -> None:
    assert _wrong_sign_ins(tmp_path, 5) == [401, 401, 401, 429, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_counts_apart(tmp_path: Path) -> None:
    tries = _wrong_sign_ins(tmp_path, 5, ALBUMEN_TRUSTED_PROXIES="127.0.0.1")
    assert tries == [401] * 5
