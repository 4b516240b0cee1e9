"""Fixtures of the end-to-end tests: a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import LiveServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A running ``albumen serve`` with one user, alice, whose API key is ``server.key``."""
    live = LiveServer(tmp_path / "data")
    live.key = live.cli("users", "add", "alice")
    live.start()
    yield live
    live.stop()
