"""Settings: every field documented, secrets masked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from albumen.adapters.datadir import DataDirUnusable, check_writable
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
    settings = Settings.from_environment()
    assert settings.data_dir == tmp_path
    assert settings.job_workers == 5
    assert settings.effective_database_url.reveal() == f"sqlite:///{tmp_path / 'albumen.db'}"


MARKER = "m4rk3r"
# A credential in every place a URL-like setting can carry one.
MARKED = {
    "database_url": f"postgresql+psycopg://app:{MARKER}@db:5432/albumen?password={MARKER}",
    "database_replica_urls": [f"postgresql+psycopg://app:{MARKER}@replica/albumen"],
    "storage_url": f"s3://photos?endpoint_url=http://s3:9000&aws_secret_access_key={MARKER}",
    "redis_url": f"redis://:{MARKER}@cache:6379/0",
    "mirror_url": f"s3://mirror?token={MARKER}",
    "warm_storage_url": f"https://user:{MARKER}@warm.example/bucket",
    "cold_storage_url": f"s3://cold?signature={MARKER}&key={MARKER}",
    "alert_webhook_url": f"https://hooks.example/alert?token={MARKER}&team=ops",
    "map_tiles_url": f"https://tiles.example/{{z}}/{{x}}/{{y}}.png?key={MARKER}",
    "secret_key": MARKER,
}


def test_every_setting_that_can_hold_a_credential_is_a_secret() -> None:
    """A new URL, key or password setting that is a plain ``str`` fails here."""
    credential_like = {
        name
        for name in Settings.model_fields
        if any(word in name for word in ("url", "secret", "key", "password", "token"))
        and name != "share_password_attempts"  # a rate ("5/minute"), not a password
    }
    assert credential_like == set(MARKED)
    for name in credential_like:
        annotation = str(Settings.model_fields[name].annotation)
        assert "Secret" in annotation, f"{name} is {annotation}"


def test_no_secret_is_shown_by_config_show_repr_or_json() -> None:
    settings = Settings(**MARKED)
    shown = [json.dumps(settings.masked()), repr(settings), str(settings)]
    shown += [settings.model_dump_json(), str(settings.model_dump())]
    for text in shown:
        assert MARKER not in text
    masked = settings.masked()
    assert masked["redis_url"] == "redis://:***@cache:6379/0"  # the server is still named
    assert masked["alert_webhook_url"] == "https://hooks.example/alert?token=***&team=ops"
    assert masked["secret_key"] == "***"
    assert settings.redis_url.reveal() == MARKED["redis_url"]  # the code gets it whole


def test_environment_fills_lists_and_secrets() -> None:
    environ = {"ALBUMEN_DATABASE_REPLICA_URLS": json.dumps(MARKED["database_replica_urls"])}
    settings = Settings.from_environment(environ | {"ALBUMEN_SECRET_KEY": MARKER})
    assert [url.reveal() for url in settings.database_replica_urls] == (
        MARKED["database_replica_urls"]
    )
    assert settings.secret_key.reveal() == MARKER


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings(trusted_proxies="127.0.0.1, 10.0.0.0/8,::1").trusted_proxies
    with pytest.raises(ValidationError, match="'nginx' is not an address or a network"):
        Settings(trusted_proxies="127.0.0.1,nginx")


def test_a_data_folder_that_cannot_be_written_is_named_with_the_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataDirUnusable) as refused:
        check_writable(blocker / "data")
    assert str(blocker / "data") in refused.value.message
    assert "not a directory" in refused.value.message
