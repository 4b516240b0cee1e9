"""A synthetic library of a million photos, and search/timeline latency over it.

``python -m bench.library`` (also part of ``make bench``) builds the library once into
``bench/tmp-library/`` through Albumen's own schema (its triggers fill the FTS5 index, the
R*Tree and the day counts), then times 200 mixed searches, timeline pages and bucket summaries
through the services, records SQLite's plan for each query shape, and writes JSON results.

Distributions: bursts of photos on event days over 20 years; a few thousand real places
(GeoNames cities from ``reverse_geocode``) with a heavy head; a few hundred cameras; tags with a
long tail; ~10% without GPS; nested albums made of events.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from albumen.adapters.db.search.words import add_sqlite_functions
from albumen.app.root import build as build_albumen
from albumen.config import Settings
from albumen.domain.maps import FINEST, grid_cell, level_for
from albumen.domain.photos import sort_key
from albumen.domain.search import Box, SearchFilters, SearchOrder
from bench.server import Server

ROOT = Path(__file__).resolve().parent
NEWEST = SearchOrder.NEWEST
PHOTOS = int(os.environ.get("BENCH_LIBRARY_PHOTOS", "1000000"))
VERSION = 7  # 6: the map's cells (migration 0019); 7: each day's located photos (0020)
WORDS = (  # noqa: SIM905 (a paragraph of words reads better than a list)
    "beach dog cat sunset mountain car food birthday snow city tree flower baby portrait "
    "party lake boat bird bridge church castle forest river garden street night sky cake "
    "wedding horse bicycle train museum market coffee pizza wine book guitar piano "
    "football tennis skiing hiking camping tent desert island harbour lighthouse "
    "waterfall cliff cave temple statue fountain park playground school office kitchen "
    "bedroom window door stairs tower skyline rainbow storm fog autumn spring summer "
    "winter leaves pumpkin christmas fireworks concert stage crowd selfie family grandma "
    "grandpa kids puppy kitten fish turtle butterfly"
).split()
MAKES = [
    "Apple",
    "Samsung",
    "Google",
    "Canon",
    "Nikon",
    "Sony",
    "Fujifilm",
    "Olympus",
    "Panasonic",
    "Xiaomi",
    "Huawei",
    "OnePlus",
    "Leica",
    "Ricoh",
    "GoPro",
    "DJI",
]
MIMES = ["image/jpeg"] * 80 + ["image/heic"] * 15 + ["image/png"] * 3 + ["image/x-nikon-nef"] * 2


def zipf_pick(rng: random.Random, items: list, s: float = 1.1):  # type: ignore[no-untyped-def,type-arg]
    """An item with probability falling as 1/rank^s (a heavy head, a long tail)."""
    weights = [1 / (rank**s) for rank in range(1, len(items) + 1)]
    return rng.choices(items, weights=weights, k=1)[0]


def build(data_dir: Path, photos: int) -> None:
    rng = random.Random(42)
    settings = Settings(data_dir=data_dir, run_workers_in_server=False)
    built = build_albumen(settings)
    owner = built.services.users.add("bench").user.id
    other = built.services.users.add("other").user.id
    built.close()
    db = sqlite3.connect(data_dir / "albumen.db")
    add_sqlite_functions(db)  # the search triggers call them
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA journal_mode=WAL")
    places = _places(db, rng)
    cameras = [(make, f"{make} {model}") for make in MAKES for model in _models(rng)][:300]
    tags = WORDS + [f"{a} {b}" for a in WORDS[:40] for b in WORDS[40:80]][:900]
    events = _events(rng, photos)
    albums = _albums(db, rng, owner, len(events))
    start = time.perf_counter()
    rows, members, tag_rows = [], [], []
    used: set[int] = set()
    n = 0
    for event_no, (day, size) in enumerate(events):
        place = zipf_pick(rng, places, 1.0)
        camera = zipf_pick(rng, cameras, 1.2)
        event_tags = [zipf_pick(rng, tags, 1.05) for _ in range(3)]
        album = albums.get(event_no)
        for _ in range(size):
            n += 1
            when = day + timedelta(seconds=rng.randrange(8 * 3600, 22 * 3600))
            key = sort_key(when, rng.randrange(1024))
            while key in used:
                key += 1
            used.add(key)
            photo_id = str(uuid.UUID(int=rng.getrandbits(128)))
            located = rng.random() > 0.1
            lat = place[1] + rng.gauss(0, 0.02) if located else None
            lon = place[2] + rng.gauss(0, 0.02) if located else None
            cell = grid_cell(lat, lon) if lat is not None and lon is not None else (None, None)
            rows.append(
                (
                    photo_id,
                    owner if n % 50 else other,
                    f"IMG_{n % 10000:04d}.JPG",
                    rng.choice(MIMES),
                    rng.randrange(500_000, 8_000_000),
                    f"{n:064x}",
                    "ready",
                    when,
                    when,
                    when if rng.random() > 0.005 else None,
                    rng.random() < 0.03,
                    f"{rng.choice(WORDS)} with {rng.choice(WORDS)}"
                    if rng.random() < 0.05
                    else None,
                    4032,
                    3024,
                    1,
                    when,
                    60,
                    when,
                    "ExifIFD:DateTimeOriginal",
                    lat,
                    lon,
                    camera[0],
                    camera[1],
                    key,
                    rng.random() < 0.02,
                    place[0] if located else None,
                    *cell,
                )
            )
            for tag in set(rng.sample(event_tags, rng.randrange(0, 4))):
                tag_rows.append((photo_id, tag, "bench", 0.9))
            if album is not None:
                members.append((album, photo_id, float(n), owner, when))
            if len(rows) >= 20_000:
                _flush(db, rows, tag_rows, members)
                print(f"  {n:,} photos, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    _flush(db, rows, tag_rows, members)
    db.execute("ANALYZE")
    db.execute("INSERT INTO photo_fts(photo_fts) VALUES ('optimize')")
    db.commit()
    db.close()
    (data_dir / "built").write_text(json.dumps({"version": VERSION, "photos": n}))


def _flush(db: sqlite3.Connection, rows: list, tag_rows: list, members: list) -> None:  # type: ignore[type-arg]
    db.executemany(
        "INSERT INTO photos(id, owner_id, filename, mime, size, sha256, status, created_at, "
        "sort_at, deleted_at, favorite, description, width, height, orientation, taken_local, "
        "taken_offset_min, taken_utc, taken_source, lat, lon, make, model, doc_id, archived, "
        "place_id, map_x, map_y) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(*row[:9], None if row[9] else row[8], *row[10:]) for row in rows],
    )
    db.executemany("INSERT OR IGNORE INTO photo_tags VALUES (?,?,?,?)", tag_rows)
    db.executemany(
        "INSERT INTO album_photos (album_id, photo_id, position, added_by, added_at)"
        " VALUES (?,?,?,?,?)",
        members,
    )
    db.commit()
    rows.clear()
    tag_rows.clear()
    members.clear()


def _places(db: sqlite3.Connection, rng: random.Random) -> list[tuple[int, float, float, str]]:
    import reverse_geocode

    points = [(rng.uniform(-40, 60), rng.uniform(-120, 140)) for _ in range(12000)]
    found: dict[tuple[str, str, str], tuple[float, float, str]] = {}
    for hit in reverse_geocode.search(points):
        key = (hit["country_code"], hit.get("state") or "", hit["city"])
        found.setdefault(key, (hit["latitude"], hit["longitude"], hit.get("country") or ""))
    places = []
    for (code, region, city), (lat, lon, country) in list(found.items())[:3000]:
        cur = db.execute(
            "INSERT INTO places(city, region, country, country_code) VALUES (?,?,?,?)",
            (city, region, country, code),
        )
        places.append((int(cur.lastrowid or 0), lat, lon, city))
    rng.shuffle(places)
    return places


def _models(rng: random.Random) -> list[str]:
    return [
        f"{rng.choice(['X', 'S', 'Pro', 'Mark', 'Z', 'A'])}{rng.randrange(1, 40)}"
        for _ in range(19)
    ]


def _events(rng: random.Random, photos: int) -> list[tuple[datetime, int]]:
    events, total = [], 0
    while total < photos:
        day = datetime(2006, 1, 1) + timedelta(days=rng.randrange(20 * 365))
        size = min(photos - total, max(1, int(rng.paretovariate(1.3) * 8)))
        events.append((day, size))
        total += size
    return events


def _albums(db: sqlite3.Connection, rng: random.Random, owner: str, events: int) -> dict[int, str]:
    """500 albums in trees up to three deep; each holds the photos of some events."""
    now = datetime(2026, 1, 1)
    ids: list[str] = []
    for n in range(500):
        parent = rng.choice(ids) if ids and rng.random() < 0.4 else None
        album_id = str(uuid.UUID(int=rng.getrandbits(128)))
        name = f"{rng.choice(WORDS).title()} {rng.choice(['trip', 'days', 'party', 'week'])} {n}"
        db.execute(
            "INSERT INTO albums (id, owner_id, parent_id, name, description, cover_photo_id,"
            " sort_order, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (album_id, owner, parent, name, None, None, "newest", now, now),
        )
        ids.append(album_id)
    return {event: rng.choice(ids) for event in rng.sample(range(events), min(events, 4000))}


def queries(db: Path, rng: random.Random) -> list[tuple[str, str]]:
    """200 (shape, query) pairs in the query language, drawn from the library itself."""
    con = sqlite3.connect(db)
    cities = [r[0] for r in con.execute("SELECT city FROM places ORDER BY random() LIMIT 40")]
    spots = con.execute(
        "SELECT lat, lon FROM photos WHERE lat IS NOT NULL ORDER BY random() LIMIT 40"
    ).fetchall()
    models = [r[0] for r in con.execute("SELECT DISTINCT model FROM photos LIMIT 60")]
    albums = [r[0] for r in con.execute("SELECT name FROM albums WHERE parent_id IS NULL LIMIT 40")]
    con.close()
    word, city, model = (
        (lambda: rng.choice(WORDS)),
        (lambda: rng.choice(cities)),
        (lambda: rng.choice(models)),
    )
    year = lambda low, high: rng.randrange(low, high)  # noqa: E731
    shapes: dict[str, Callable[[], str]] = {
        "text": lambda: rng.choice(
            [word(), city(), f"{word()} {word()}", word()[:-1] + "x"]  # the last one: a typo
        ),
        "filters": lambda: rng.choice(
            [
                f'camera:"{model()}"',
                f"tag:{word()}",
                f"after:{year(2006, 2026)} before:{year(2006, 2027)}",
                "is:favorite",
                "has:location type:heic",
                f"on:{year(2006, 2026)}-{rng.randrange(1, 13):02d}",
            ]
        ),
        "text+filters": lambda: (
            f"{word()} after:{year(2006, 2024)} "
            + rng.choice(
                ["is:favorite", f'camera:"{model()}"', "type:jpeg", f"before:{year(2015, 2027)}"]
            )
        ),
        "geo": lambda: "near:{:.4f},{:.4f},{}km".format(
            *rng.choice(spots), rng.choice([1, 5, 25, 100])
        ),
        "album": lambda: f'in:"{rng.choice(albums)}"' + rng.choice(["", f" {word()}"]),
    }
    return [(shape, make()) for _ in range(40) for shape, make in shapes.items()]


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "n": len(times)}


def timed(func) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func()
    return (time.perf_counter() - start) * 1000, result


def ensure_built(photos: int = PHOTOS) -> Path:
    """The synthetic library of ``photos`` photos, built once (again when its recipe changed)."""
    data_dir = ROOT / "tmp-library" / f"{photos}"
    built = data_dir / "built"
    if not built.exists() or json.loads(built.read_text())["version"] != VERSION:
        if data_dir.exists():
            shutil.rmtree(data_dir)
        start = time.perf_counter()
        build(data_dir, photos)
        print(f"built {photos:,} photos in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return data_dir


def main() -> dict[str, object]:
    data_dir = ensure_built()
    mix = queries(data_dir / "albumen.db", random.Random(7))
    result: dict[str, object] = {"photos": PHOTOS, "queries": len(mix)}
    result |= in_process(Settings(data_dir=data_dir, run_workers_in_server=False), mix)
    views = map_views(data_dir / "albumen.db", random.Random(11))
    result |= over_http(data_dir, mix, views)
    result["reference"] = bare_fts(data_dir, [q for shape, q in mix if shape == "text"])
    result["map"] = map_times(Settings(data_dir=data_dir, run_workers_in_server=False), views)
    result["memories"] = memory_times(Settings(data_dir=data_dir, run_workers_in_server=False))
    return result


# A map as a desktop browser shows it: 1440 x 900 pixels of a 256-pixel world at zoom 0.
MAP_WIDTH, MAP_HEIGHT = 1440, 900


def map_views(db: Path, rng: random.Random) -> list[tuple[Box, int]]:
    """200 views a person opens or pans to: the whole world, continents, countries, cities,
    streets, each centred on where photos are (or anywhere, one time in five)."""
    con = sqlite3.connect(db)
    spots = con.execute(
        "SELECT lat, lon FROM photos WHERE lat IS NOT NULL ORDER BY random() LIMIT 200"
    ).fetchall()
    con.close()
    views = []
    for n in range(200):
        zoom = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16])
        anywhere = (rng.uniform(-60, 70), rng.uniform(-180, 180))
        lat, lon = spots[n] if rng.random() > 0.2 else anywhere
        width = min(360.0, MAP_WIDTH / (256 * 2**zoom) * 360)
        # the height in degrees of latitude, as Web Mercator stretches it there
        height = min(170.0, width * MAP_HEIGHT / MAP_WIDTH * math.cos(math.radians(lat)))
        south, north = max(-90.0, lat - height / 2), min(90.0, lat + height / 2)
        west, east = max(-180.0, lon - width / 2), min(180.0, lon + width / 2)
        views.append((Box(south, west, north, east), zoom))
    return views


def map_times(settings: Settings, views: list[tuple[Box, int]]) -> dict[str, object]:
    """``GET /api/v1/map``'s work (the service, from the counts kept per cell) against the
    reference: SQLite counting the same cells from the photos at each request, as a map with
    no kept counts must (the owner's photos in the box, grouped by cell)."""
    built = build_albumen(settings)
    owner = built.services.users.by_name("bench")
    for box, zoom in views[:20]:  # warm, untimed
        built.services.maps.library(owner.id, box, zoom)
    served, clusters = [], []
    for box, zoom in views:
        ms, view = timed(partial(built.services.maps.library, owner.id, box, zoom))
        served.append(ms)
        clusters.append(len(view.pins))  # type: ignore[attr-defined]
    built.close()
    con = sqlite3.connect(settings.data_dir / "albumen.db")
    counted = []
    for box, zoom in views:
        shift = FINEST - level_for(zoom)
        sql = (
            f"SELECT map_x >> {shift}, map_y >> {shift}, count(*), max(doc_id) FROM photos"
            " WHERE owner_id = ? AND deleted_at IS NULL AND NOT archived AND map_x IS NOT NULL"
            " AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? GROUP BY 1, 2"
        )
        args = (owner.id, box.south, box.north, box.west, box.east)
        counted.append(timed(lambda sql=sql, args=args: con.execute(sql, args).fetchall())[0])
    con.close()
    mine, theirs = percentiles(served), percentiles(counted)
    return {
        "map_ms": mine | {"target_p95": 100},
        "clusters_per_view": percentiles([float(c) for c in clusters]),
        "reference_count_from_photos_ms": theirs,
        "p95_ratio_to_reference": round(mine["p95"] / max(theirs["p95"], 1e-9), 3),
    }


def memory_times(settings: Settings) -> dict[str, object]:
    """The start page's memories (``GET /api/v1/memories``'s work) for 50 days of the library's
    last two years: every earlier year's photos of that day (the bench library has some on
    most days: ~18 memories) and the year's trips, each with its covers."""
    built = build_albumen(settings)
    owner = built.services.users.by_name("bench")
    rng = random.Random(5)
    days = [date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700)) for _ in range(50)]
    built.services.memories.memories(owner.id, days[0])  # warm, untimed
    times, shown = [], []
    for day in days:
        ms, found = timed(partial(built.services.memories.memories, owner.id, day))
        times.append(ms)
        shown.append(float(len(found)))  # type: ignore[arg-type]
    built.close()
    return {"memories_ms": percentiles(times), "memories_per_day": percentiles(shown)}


def warm(settings: Settings, mix: list[tuple[str, str]]) -> None:
    """Each search once, untimed: the engine's cache as a running service has it."""
    built = build_albumen(settings)
    owner = built.services.users.by_name("bench")
    for _shape, q in mix:
        built.services.search.search(
            owner.id, built.services.search.filters(q, SearchFilters()), NEWEST, 100, None
        )
    built.close()


def in_process(
    settings: Settings, mix: list[tuple[str, str]], plans_file: str = "library-plans.md"
) -> dict[str, object]:
    """The services called directly: the time Albumen itself takes, and each shape's plans."""
    built = build_albumen(settings)
    owner = built.services.users.by_name("bench")
    by_shape: dict[str, list[float]] = {}
    plans: dict[str, dict[str, str]] = {}
    index = built.infrastructure.search_index()
    for shape, q in mix:
        filters = built.services.search.filters(q, SearchFilters())
        ms, _ = timed(partial(built.services.search.search, owner.id, filters, NEWEST, 100, None))
        by_shape.setdefault(shape, []).append(ms)
        album_ids = (
            built.services.albums.resolve(owner.id, filters.album) if filters.album else None
        )
        plan = " | ".join(index.explain(owner.id, filters, album_ids))
        plans.setdefault(shape, {}).setdefault(plan, q)
    first = partial(built.services.photos.timeline, owner.id, 100, None)
    later = partial(built.services.photos.timeline, owner.id, 100, first().next_cursor)
    months = partial(built.services.search.buckets, owner.id, SearchFilters(), False)
    timeline = [timed(page)[0] for page in [first, later] * 50]
    buckets = [timed(months)[0] for _ in range(50)]
    everything = [t for times in by_shape.values() for t in times]
    built.close()
    write_plans(plans, plans_file)
    return {
        "search_ms": percentiles(everything) | {"target_p95": 100},
        "search_ms_by_shape": {shape: percentiles(times) for shape, times in by_shape.items()},
        "timeline_page_ms": percentiles(timeline) | {"target_p95": 20},
        "buckets_ms": percentiles(buckets) | {"target_p95": 20},
    }


def over_http(
    data_dir: Path, mix: list[tuple[str, str]], views: list[tuple[Box, int]]
) -> dict[str, object]:
    """The same searches, timeline pages and buckets through a real ``albumen serve``, one
    connection kept alive, and the server's memory while it answers them."""
    built = build_albumen(Settings(data_dir=data_dir, run_workers_in_server=False))
    key = built.services.users.add_key("bench", "benchmark").secret
    built.close()
    headers = {"Authorization": f"Bearer {key}"}
    with Server(data_dir) as server:
        idle = server.rss_mb()
        conn = http.client.HTTPConnection("127.0.0.1", server.port)

        def get(path: str, **params: str) -> float:
            start = time.perf_counter()
            conn.request("GET", f"{path}?{urlencode(params)}", headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, (path, params, response.status)
            return (time.perf_counter() - start) * 1000

        search = [get("/api/v1/search", q=q) for _shape, q in mix]
        timeline = [get("/api/v1/photos", limit="100") for _ in range(100)]
        buckets = [get("/api/v1/timeline/buckets") for _ in range(50)]
        maps = [
            get("/api/v1/map", bbox=f"{b.south},{b.west},{b.north},{b.east}", zoom=str(zoom))
            for b, zoom in views
        ]
        busy = server.rss_mb()
    return {
        "http": {
            "search_ms": percentiles(search) | {"target_p95": 100},
            "timeline_page_ms": percentiles(timeline) | {"target_p95": 20},
            "buckets_ms": percentiles(buckets) | {"target_p95": 20},
            "map_ms": percentiles(maps) | {"target_p95": 100},
        },
        "server_rss_mb": {"idle": idle["now"], "after": busy["now"], "peak": busy["peak"]},
    }


def bare_fts(data_dir: Path, texts: list[str]) -> dict[str, object]:
    """The reference: SQLite alone answering the plain FTS5 query of each text search (first
    100 matches, newest first), with no owner, filter, typo or JSON work around it."""
    con = sqlite3.connect(data_dir / "albumen.db")
    sql = "SELECT rowid FROM photo_fts WHERE photo_fts MATCH ? ORDER BY rowid DESC LIMIT 100"
    times = []
    for text in texts:
        match = " AND ".join(f'"{word}"*' for word in text.split())
        times.append(timed(lambda m=match: con.execute(sql, (m,)).fetchall())[0])
    con.close()
    return {"bare_sqlite_fts5_ms": percentiles(times)}


_PLAN_NOTES = {
    "library-plans.md": [
        "Written by `python -m bench.library` (SQLite `EXPLAIN QUERY PLAN`, one million photos).",
        "`SCAN f VIRTUAL TABLE` is the FTS5 index walked in `doc_id` order; no plan scans the",
        "photo table: each searches an index of it.",
    ],
    "library-plans-postgres.md": [
        "Written by `python -m bench.scale` (PostgreSQL `EXPLAIN`, the same million photos,",
        "copied by `albumen migrate-to`'s code). `ix_photo_search_document` is the GIN index",
        "over owner and tsvector; `ix_photos_place` the GiST index on `point(lon, lat)`.",
    ],
}


def write_plans(plans: dict[str, dict[str, str]], name: str = "library-plans.md") -> None:
    """Every distinct plan of each query shape, with an example, kept beside the benchmark."""
    lines = ["# Query plans of the library benchmark", "", *_PLAN_NOTES[name], ""]
    for shape, found in plans.items():
        lines += [f"## {shape}", ""]
        for plan, example in found.items():
            lines += [f"- `{example}`", *(f"  - {step}" for step in plan.split(" | "))]
        lines.append("")
    (ROOT / name).write_text("\n".join(lines))


if __name__ == "__main__":
    out = main()
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    (results / "library.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
