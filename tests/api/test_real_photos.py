"""Every real camera file of ``../shared/photos`` uploaded, processed and read back, in both worlds.

The metadata reader is scored against exiftool in ``tests/integration``; this is the whole path a
photo takes (upload, the processing job, the database, the photo's JSON), so that what one world
keeps the other keeps too. On PostgreSQL every photo whose offset came from the time zone at its
GPS position once ended ``failed``: its date source overflowed its column.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from albumen.app import Services
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
    client: TestClient, auth: dict[str, str], services: Services, photos_dir: Path
) -> None:
    taken = _uploaded(client, auth, photos_dir)
    assert len(taken) >= 100  # the set did not shrink
    services.queue.run_pending()
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
