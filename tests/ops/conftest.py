"""Fixtures of the operations tests: an admin, and promtool where it is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from albumen.app.services import Services

OPS = Path(__file__).resolve().parents[2] / "ops"


@pytest.fixture
def admin(services: Services) -> dict[str, str]:
    """An admin's key."""
    return {"Authorization": f"Bearer {services.users.add('root', admin=True).secret}"}


@pytest.fixture
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    return found
