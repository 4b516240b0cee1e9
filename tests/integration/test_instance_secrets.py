"""The secret that signs share unlocks: made once, in the database, shared by every process."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from albumen.adapters.system import SystemClock
from albumen.app.root import build
from albumen.app.services import Services, secret_key
from albumen.config import Secret, Settings
from albumen.web import create_app
from tests.conftest import make_jpeg, upload


def test_a_share_unlocked_at_one_process_opens_at_another(
    tmp_path: Path, settings: Settings, services: Services, client: TestClient, auth: dict[str, str]
) -> None:
    photo = upload(client, auth, make_jpeg(32, 24)).json()["id"]
    link = client.post(
        "/api/v1/shares", headers=auth, json={"photo_id": photo, "password": "sesame"}
    ).json()
    unlock = client.post(f"/s/{link['token']}/unlock", json={"password": "sesame"}).json()
    # another process of the deployment: the same database, a data dir of its own (scale)
    other_settings = settings.model_copy(update={"data_dir": tmp_path / "other"})
    if not settings.database_url:  # embedded: one library is one data dir
        other_settings = settings
    other = build(other_settings)
    try:
        with TestClient(create_app(other_settings, other)) as other_client:
            opened = other_client.get(
                f"/s/{link['token']}", headers={"X-Share-Unlock": unlock["unlock"]}
            )
        assert opened.status_code == 200, opened.text
    finally:
        other.close()


def test_the_key_of_an_older_version_is_taken_in(tmp_path: Path, settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "secret.key").write_text("a1" * 32)  # made by an older version
    built = build(settings)
    try:
        assert (
            secret_key(settings, built.infrastructure.engine, SystemClock()) == ("a1" * 32).encode()
        )
        (settings.data_dir / "secret.key").unlink()  # kept in the database from now on
        assert (
            secret_key(settings, built.infrastructure.engine, SystemClock()) == ("a1" * 32).encode()
        )
        configured = settings.model_copy(update={"secret_key": Secret("set-by-the-operator")})
        assert (
            secret_key(configured, built.infrastructure.engine, SystemClock())
            == b"set-by-the-operator"
        )
    finally:
        built.close()
