"""Photos of one instant: each gets a timeline key of its own, however many there are.

A photo's ``doc_id`` is its time in milliseconds with ten bits of salt below it, drawn at
random. A scanner's batch or a camera whose clock was never set gives thousands of photos the
same time: once most of the 1,024 salts were taken, random draws kept missing and the photo
was refused (``UNIQUE constraint failed: photos.doc_id``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.tables import photos
from albumen.app.services import Services
from albumen.domain.metadata import PhotoMetadata, TakenAt
from albumen.domain.photos import NewPhoto, PhotoEdit, sort_key

SCANNED = datetime(2001, 1, 1)  # a scanner's default date
MORE_THAN_THE_SALTS = 1100


def test_more_photos_of_one_millisecond_than_there_are_salts_are_all_kept(
    services: Services, engine: Engine
) -> None:
    owner = services.users.add("alice").user.id
    repo = SqlPhotoRepo(engine)
    added = [
        repo.add(NewPhoto(owner, f"scan_{n}.jpg", "image/jpeg", 1, f"{n:064x}"), SCANNED)[0]
        for n in range(MORE_THAN_THE_SALTS)
    ]

    with engine.connect() as conn:
        query = select(photos.c.doc_id).where(photos.c.owner_id == owner)
        keys = sorted(conn.execute(query).scalars())
    assert len(added) == len(set(keys)) == MORE_THAN_THE_SALTS
    # they stay together in the timeline, at (or within a few ms after) their instant
    assert keys[0] >= sort_key(SCANNED)
    assert keys[-1] < sort_key(SCANNED.replace(second=1))


def test_dating_many_photos_to_one_instant_keeps_them_all(
    services: Services, engine: Engine
) -> None:
    owner = services.users.add("alice").user.id
    repo = SqlPhotoRepo(engine)
    ids = [
        repo.add(
            NewPhoto(owner, f"p{n}.jpg", "image/jpeg", 1, f"{n:064x}"),
            datetime(2024, 5, n % 28 + 1),
        )[0].id
        for n in range(MORE_THAN_THE_SALTS)
    ]
    scanned = TakenAt(SCANNED, 0, "t")
    for photo_id in ids[:700]:  # dated one by one, as processing does
        repo.save_metadata(photo_id, PhotoMetadata(4, 3, taken_at=scanned), SCANNED, None)
    repo.edit(ids[700:], PhotoEdit(taken_at=SCANNED.astimezone()), SCANNED)  # and at once

    with engine.connect() as conn:
        at_the_instant = conn.execute(
            select(func.count(func.distinct(photos.c.doc_id))).where(
                photos.c.sort_at == SCANNED, photos.c.owner_id == owner
            )
        ).scalar()
    assert at_the_instant == MORE_THAN_THE_SALTS
