"""Each album's photo count, kept by triggers, always equals counting the photos afresh."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, text

from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.app.services import Services
from albumen.domain.albums import AlbumRole
from albumen.domain.photos import NewPhoto

RECOUNT = """SELECT a.id, a.photo_count, (SELECT count(*) FROM album_photos ap
    JOIN photos p ON p.id = ap.photo_id WHERE ap.album_id = a.id AND p.deleted_at IS NULL)
    FROM albums a"""


def photos(engine: Engine, owner: str, n: int, seed: int) -> list[str]:
    repo = SqlPhotoRepo(engine)
    return [
        repo.add(
            NewPhoto(owner, f"{seed}_{k}.jpg", "image/jpeg", 1, f"{seed:032x}{k:032x}"),
            datetime(2024, 1, 1 + k),
        )[0].id
        for k in range(n)
    ]


def assert_counts_true(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text(RECOUNT)).all()
    assert [(album, kept) for album, kept, fresh in rows if kept != fresh] == []
    return {album: kept for album, kept, _ in rows}


def test_counts_follow_every_change(services: Services, engine: Engine) -> None:
    alice = services.users.add("alice").user.id
    bob = services.users.add("bob").user.id
    p = photos(engine, alice, 6, seed=1)
    trip = services.albums.create(alice, "Trip").id
    day = services.albums.create(alice, "Day one", parent_id=trip).id

    services.albums.add_photos(alice, trip, p[:4])
    services.albums.add_photos(alice, day, p[2:5])
    services.albums.add_photos(alice, trip, p[:2])  # already there: no change
    assert assert_counts_true(engine) == {trip: 4, day: 3}

    services.trash.trash(alice, [p[2], p[3]])
    assert assert_counts_true(engine) == {trip: 2, day: 1}
    services.albums.add_photos(alice, day, [p[5]])
    services.albums.remove_photos(alice, day, [p[3]])  # trashed: the count does not move
    assert assert_counts_true(engine) == {trip: 2, day: 2}
    services.trash.restore(alice, [p[2]])
    services.trash.empty(alice, [p[3]])  # for good, from the trash
    assert assert_counts_true(engine) == {trip: 3, day: 3}

    services.albums.share_with(alice, trip, "bob", AlbumRole.CONTRIBUTOR)
    q = photos(engine, bob, 2, seed=2)
    services.albums.add_photos(bob, trip, q)
    assert assert_counts_true(engine)[trip] == 5
    with engine.begin() as conn:  # bob leaves: his photos go without the trash
        conn.execute(text("DELETE FROM users WHERE id = :bob"), {"bob": bob})
    assert assert_counts_true(engine) == {trip: 3, day: 3}

    services.albums.delete(alice, day, recursive=False)
    assert assert_counts_true(engine) == {trip: 3}
    assert [a.photo_count for a in services.albums.visible(alice)] == [3]
