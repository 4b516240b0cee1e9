"""Settings: every field documented, secrets masked."""

from __future__ import annotations

import re
from pathlib import Path

from albumen.config import Settings, mask_url

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented_and_nothing_else() -> None:
    documented = set(re.findall(r"^\| `ALBUMEN_([A-Z_]+)`", DOC.read_text(), re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert documented == fields


def test_urls_are_masked_when_shown() -> None:
    settings = Settings(redis_url="redis://:hunter2@cache:6379/0", database_url="sqlite:///x.db")
    shown = settings.masked()
    assert "hunter2" not in str(shown)
    assert shown["redis_url"] == "redis://:***@cache:6379/0"
    assert mask_url("postgresql+psycopg://app:s3cret@db/albumen") == (
        "postgresql+psycopg://app:***@db/albumen"
    )


def test_environment_overrides_defaults(monkeypatch: object, tmp_path: Path) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("ALBUMEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ALBUMEN_JOB_WORKERS", "5")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.job_workers == 5
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'albumen.db'}"
