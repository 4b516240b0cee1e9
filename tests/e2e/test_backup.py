"""Backups as a user takes them, and restores into an empty data dir that then serves."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient

from albumen.adapters.db.engine import SCHEMA_REVISION, alembic_config, make_engine
from albumen.app.root import build
from albumen.config import Settings
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.e2e.test_cli import _albumen

pytestmark = pytest.mark.slow


def _library(data_dir: Path, photos: int) -> tuple[str, list[str]]:
    """A library with processed photos in an album; (API key, photo ids)."""
    settings = Settings(data_dir=data_dir, run_workers_in_server=False, analysis=False)
    built = build(settings)
    try:
        with TestClient(create_app(built.infrastructure.settings, built)) as client:
            auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
            ids = [
                upload(client, auth, make_jpeg(400, 300, seed=n), f"p{n}.jpg").json()["id"]
                for n in range(photos)
            ]
            built.infrastructure.queue.run_pending()
            album = client.post("/api/v1/albums", headers=auth, json={"name": "Trip"}).json()
            added = client.put(
                f"/api/v1/albums/{album['id']}/photos", headers=auth, json={"ids": ids[:2]}
            )
            assert added.status_code < 300
            return auth["Authorization"].removeprefix("Bearer "), ids
    finally:
        built.close()


def test_backup_is_incremental_and_restore_serves_every_photo(tmp_path: Path) -> None:
    source, target, dest = tmp_path / "data", tmp_path / "restored", tmp_path / "backup"
    key, ids = _library(source, 3)

    first = _albumen(source, "backup", str(dest))
    assert "3 blobs" not in first.stdout  # each photo has an original, a thumb and a preview
    assert "9 blobs" in first.stdout
    assert "of which 9 new" in first.stdout
    again = _albumen(source, "backup", str(dest))
    assert "of which 0 new" in again.stdout  # incremental: nothing new to copy
    snapshots = sorted((dest / "snapshots").iterdir())
    assert len(snapshots) == 2
    manifest = json.loads((snapshots[-1] / "manifest.json").read_text())
    assert manifest["database"]["rows"]["photos"] == 3
    assert manifest["database"]["revision"] == SCHEMA_REVISION

    restored = _albumen(target, "restore", str(dest))
    assert "verified: every row and every blob is back" in restored.stdout
    secrets = [_signing_secret(folder) for folder in (source, target)]
    assert secrets[0] == secrets[1]  # share unlocks made before still open

    built = build(Settings(data_dir=target, run_workers_in_server=False))
    try:
        with TestClient(create_app(built.infrastructure.settings, built)) as client:
            auth = {"Authorization": f"Bearer {key}"}  # the same account, the same key
            listed = client.get("/api/v1/photos", headers=auth).json()["items"]
            assert sorted(p["id"] for p in listed) == sorted(ids)
            for photo in listed:
                original = client.get(f"/api/v1/photos/{photo['id']}/original", headers=auth)
                assert hashlib.sha256(original.content).hexdigest() == photo["sha256"]
                for size in ("thumb", "preview"):
                    url = f"/api/v1/photos/{photo['id']}/thumbnail?size={size}"
                    thumb = client.get(url, headers=auth | {"Accept": "image/webp"})
                    assert thumb.status_code == 200
                    assert hashlib.sha256(thumb.content).hexdigest() == thumb.headers["etag"].strip(
                        '"'
                    )
            albums = client.get("/api/v1/albums", headers=auth).json()
            assert [(a["name"], a["photo_count"]) for a in albums] == [("Trip", 2)]
        assert built.services.scrub.scrub().findings == []
    finally:
        built.close()


def test_restore_refuses_a_data_dir_that_holds_a_library(tmp_path: Path) -> None:
    _library(tmp_path / "data", 1)
    _albumen(tmp_path / "data", "backup", str(tmp_path / "backup"))
    refused = _albumen(tmp_path / "data", "restore", str(tmp_path / "backup"), check=False)
    assert refused.returncode == 2
    assert "restore into an empty data dir" in refused.stderr


def test_a_damaged_backup_is_caught_on_restore(tmp_path: Path) -> None:
    _library(tmp_path / "data", 1)
    dest = tmp_path / "backup"
    _albumen(tmp_path / "data", "backup", str(dest))
    blob = next(p for p in (dest / "blobs").glob("??/??/*") if p.is_file())
    damaged = bytearray(blob.read_bytes())
    damaged[-1] ^= 0xFF
    blob.write_bytes(bytes(damaged))
    restored = _albumen(tmp_path / "restored", "restore", str(dest), check=False)
    assert restored.returncode == 1
    assert f"not in the backup: {blob.name}" in restored.stdout
    assert f"missing: {blob.name}" in restored.stdout


def test_the_database_is_backed_up_and_checked_before_a_migration(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data_dir / 'albumen.db'}")
    command.upgrade(alembic_config(engine), "0006")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO users (id, name, created_at, is_admin) "
            "VALUES ('u1', 'old', '2026-01-01 00:00:00', 1)"
        )
    engine.dispose()

    built = build(Settings(data_dir=data_dir, run_workers_in_server=False))
    built.close()
    (backup,) = (data_dir / "backups").glob("before-*.sqlite3")
    assert backup.name.startswith(f"before-{SCHEMA_REVISION}-from-0006-")
    with sqlite3.connect(backup) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("0006",)
        assert db.execute("SELECT name FROM users").fetchall() == [("old",)]
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    build(Settings(data_dir=data_dir, run_workers_in_server=False)).close()
    assert len(list((data_dir / "backups").glob("before-*.sqlite3"))) == 1  # none when current


def _signing_secret(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "albumen.db") as db:
        (value,) = db.execute("SELECT value FROM instance_secrets").fetchone()
    return str(value)
