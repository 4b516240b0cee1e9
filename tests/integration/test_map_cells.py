"""What triggers keep of where photos were taken always equals counting the photos afresh,
after any sequence of the changes a photo goes through: the map's counts per cell
(``map_cells``) at every stored level, and each day's located photos (``located_days``)."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import Engine, text

from albumen.app.services import Services
from albumen.domain.maps import FINEST, STORED, grid_cell
from tests.integration.test_album_counts import photos

VISIBLE = "deleted_at IS NULL AND NOT archived AND map_x IS NOT NULL"


def recount(engine: Engine) -> dict[tuple[str, int, int, int], tuple[int, float, float, int]]:
    fresh = {}
    with engine.connect() as conn:
        for level in STORED:
            shift = FINEST - level
            rows = conn.execute(
                text(
                    f"SELECT owner_id, map_x >> {shift}, map_y >> {shift}, count(*), sum(lat),"
                    f" sum(lon), max(doc_id) FROM photos WHERE {VISIBLE} GROUP BY 1, 2, 3"
                )
            )
            for owner, x, y, count, lat, lon, cover in rows:
                fresh[owner, level, x, y] = (count, lat, lon, cover)
    return fresh


def kept(engine: Engine) -> dict[tuple[str, int, int, int], tuple[int, float, float, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT owner_id, level, x, y, count, lat_sum, lon_sum, cover FROM map_cells")
        )
        return {(o, lv, x, y): (n, la, lo, c) for o, lv, x, y, n, la, lo, c in rows}


def located_afresh(engine: Engine) -> dict[tuple[str, str], tuple[int, float, float]]:
    day = "date(coalesce(taken_local, sort_at))"
    if engine.dialect.name == "postgresql":
        day = "timeline_day(taken_local, sort_at)"
    sql = (
        f"SELECT owner_id, {day}, count(*), sum(lat), sum(lon) FROM photos"
        " WHERE deleted_at IS NULL AND NOT archived AND lat IS NOT NULL GROUP BY 1, 2"
    )
    with engine.connect() as conn:
        return {(o, str(d)): (n, la, lo) for o, d, n, la, lo in conn.execute(text(sql))}


def located_kept(engine: Engine) -> dict[tuple[str, str], tuple[int, float, float]]:
    sql = "SELECT owner_id, day, count, lat_sum, lon_sum FROM located_days"
    with engine.connect() as conn:
        return {(o, d): (n, la, lo) for o, d, n, la, lo in conn.execute(text(sql))}


def assert_cells_true(engine: Engine) -> None:
    fresh_days, kept_days = located_afresh(engine), located_kept(engine)
    assert set(kept_days) == set(fresh_days)
    for day, (photos_then, lat_sum, lon_sum) in fresh_days.items():
        assert kept_days[day][0] == photos_then, day
        assert abs(kept_days[day][1] - lat_sum) < 1e-6, day
        assert abs(kept_days[day][2] - lon_sum) < 1e-6, day
    fresh, found = recount(engine), kept(engine)
    assert set(found) == set(fresh)
    for key, (count, lat, lon, cover) in fresh.items():
        n, la, lo, c = found[key]
        assert (n, c) == (count, cover), key
        assert abs(la - lat) < 1e-6, key
        assert abs(lo - lon) < 1e-6, key


def test_cells_follow_every_change(services: Services, engine: Engine) -> None:
    alice = services.users.add("alice").user.id
    bob = services.users.add("bob").user.id
    ids = [*photos(engine, alice, 25, seed=1), *photos(engine, alice, 25, seed=3)]
    ids += photos(engine, bob, 10, seed=2)
    # a few places, some photos in the same finest cell, so covers must be found again
    places = [(48.8584, 2.2945), (48.8585, 2.2946), (52.01, 4.35), (-16.5, -179.9), (0.0, 0.0)]
    rng = random.Random(19)

    def locate(photo_id: str, where: tuple[float, float] | None) -> None:
        x, y = grid_cell(*where) if where else (None, None)
        lat, lon = where or (None, None)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE photos SET lat = :lat, lon = :lon, map_x = :x, map_y = :y"
                    " WHERE id = :id"
                ),
                {"lat": lat, "lon": lon, "x": x, "y": y, "id": photo_id},
            )

    def flip(photo_id: str, column: str) -> None:
        value = "NOT archived"
        if column == "deleted_at":
            value = "CASE WHEN deleted_at IS NULL THEN :now ELSE NULL END"
        with engine.begin() as conn:
            conn.execute(
                text(f"UPDATE photos SET {column} = {value} WHERE id = :id"),
                {"id": photo_id, "now": datetime(2025, 1, 1)},
            )

    for photo_id in ids:
        locate(photo_id, rng.choice([*places, None]))
    assert_cells_true(engine)
    alive = list(ids)
    for step in range(150):
        photo_id = rng.choice(alive)
        action = rng.random()
        if action < 0.3:
            locate(photo_id, rng.choice([*places, None]))
        elif action < 0.55:
            flip(photo_id, "deleted_at")
        elif action < 0.8:
            flip(photo_id, "archived")
        elif action < 0.92:  # a new date: a new place in the timeline, another day
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE photos SET doc_id = :doc, taken_local = :day WHERE id = :id"),
                    {"doc": 10**12 + step, "day": datetime(2020, 1, 1 + step % 5), "id": photo_id},
                )
        else:
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM photos WHERE id = :id"), {"id": photo_id})
            alive.remove(photo_id)
        assert_cells_true(engine)
    with engine.begin() as conn:  # a user goes: their cells with them
        conn.execute(text("DELETE FROM users WHERE id = :bob"), {"bob": bob})
    assert_cells_true(engine)
    assert {owner for owner, *_ in kept(engine)} <= {alice}
