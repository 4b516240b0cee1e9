"""Every real camera file of ``../shared/photos`` uploaded, processed and read back, in both worlds.

The metadata reader is scored against exiftool in ``tests/integration``; this is the whole path a
photo takes (upload, the processing job, the database, the photo's JSON), so that what one world
keeps the other keeps too. On PostgreSQL every photo whose offset came from the time zone at its
GPS position once ended ``failed``: its date source overflowed its column.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from albumen.adapters.queue import HueyJobQueue
from albumen.app.services import Services
from tests.conftest import upload
from tests.truth import MIN_AGREEMENT, agreement, rows


def _may_fail(row: dict[str, str]) -> bool:
    """Broken files, and RAW files that are metadata-only stubs: exiftool reads them, nothing
    decodes them (failed, with the reason, the original kept)."""
    return row["kind"] == "corrupt" or row["decodes"].startswith("no")


def _uploaded(client: TestClient, auth: dict[str, str], photos_dir: Path) -> dict[str, str]:
    """Each file's name to the id of its photo, for the files the upload took."""
    taken = {}
    for row in rows(photos_dir):
        answer = upload(client, auth, (photos_dir / row["filename"]).read_bytes(), row["filename"])
        if answer.status_code in (200, 201):
            taken[row["filename"]] = answer.json()["id"]
        else:
            assert 400 <= answer.status_code < 500, (row["filename"], answer.text)
            assert answer.json()["error"]["code"], row["filename"]
    return taken


@pytest.mark.photos
def test_every_real_photo_is_processed_and_its_metadata_stored(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    queue: HueyJobQueue,
    photos_dir: Path,
) -> None:
    taken = _uploaded(client, auth, photos_dir)
    assert len(taken) >= 100  # the set did not shrink
    queue.run_pending()
    owner = services.users.authenticate(auth["Authorization"].removeprefix("Bearer "))
    stored = {name: services.photos.get(owner.id, photo_id) for name, photo_id in taken.items()}
    by_name = {row["filename"]: row for row in rows(photos_dir)}
    failed = {
        name: photo.error
        for name, photo in stored.items()
        if photo.status.value != "ready" and not _may_fail(by_name[name])
    }
    assert failed == {}
    # a located photo without an offset in the file took the offset of its time zone
    zoned = [
        p
        for p in stored.values()
        if "GPS position"
        in ((p.metadata and p.metadata.taken_at and p.metadata.taken_at.source) or "")
    ]
    assert zoned, "no photo took its offset from its position"
    readings = [(by_name[name], photo.metadata) for name, photo in stored.items()]
    shares, carried, misses = agreement(readings)
    assert carried["date_taken"] >= 50
    assert carried["gps"] >= 10
    for field, share in shares.items():
        assert share >= MIN_AGREEMENT, f"{field} agrees on {share:.1%}: {misses}"


def _media_rows(media_dir: Path) -> list[dict[str, str]]:
    with (media_dir / "truth.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    return [row for row in rows if row["kind"] not in ("takeout", "xmp")]  # not media files


@pytest.mark.photos
def test_every_real_media_file_gets_a_clear_answer_and_its_stills_are_kept(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    queue: HueyJobQueue,
    media_dir: Path,
) -> None:
    """Phone and camera videos, Live and Motion Photos, photos with text and broken files:
    each upload answers a 2xx or a 4xx with a code (never a 5xx), and every still that was
    taken ends ready in both worlds. (Videos are refused with 415 until they are items too.)"""
    owner = services.users.authenticate(auth["Authorization"].removeprefix("Bearer "))
    taken, refused = {}, {}
    for row in _media_rows(media_dir):
        answer = upload(client, auth, (media_dir / row["filename"]).read_bytes(), row["filename"])
        assert answer.status_code < 500, (row["filename"], answer.text)
        if answer.status_code in (200, 201):
            taken[row["filename"]] = (row, answer.json()["id"])
        else:
            refused[row["filename"]] = answer.json()["error"]["code"]
    queue.run_pending()
    stills = {"live_still", "motion_photo", "ocr"}
    for name, (row, photo_id) in taken.items():
        photo = services.photos.get(owner.id, photo_id)
        assert photo.status.value in ("ready", "failed"), name  # never left half done
        if row["kind"] in stills:
            assert photo.status.value == "ready", (name, photo.error)
    assert {row["kind"] for row, _ in taken.values()} >= stills
    assert set(refused.values()) <= {"unsupported_media", "empty_file", "corrupt_media"}
