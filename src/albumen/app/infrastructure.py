"""``Infrastructure``: every choice between the embedded world and the scale one, made here.

SQLite or PostgreSQL (and its read replicas), local folders or S3 buckets for the blobs, huey
on SQLite or on Redis, one Redis client for everything that uses Redis, the cache levels, the
locks and where rate limits are counted. Nothing else in Albumen looks at a URL's scheme or at
``redis_url``.
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from albumen.adapters.blobs import LocalBlobStore, LocalUploadParts
from albumen.adapters.cache import LayeredCache, MemoryCache, RedisCache
from albumen.adapters.datadir import check_writable
from albumen.adapters.db.engine import (
    DatabaseFile,
    Pool,
    is_damage,
    make_engine,
    migrate,
    sqlite_file,
)
from albumen.adapters.db.replicas import MemoryMarks, ReadRouting, RedisMarks
from albumen.adapters.db.search.sqlite import SqliteSearchIndex
from albumen.adapters.db.snapshot import backup_before_migrating
from albumen.adapters.mirror import MirroredBlobStore
from albumen.adapters.queue import HueyJobQueue
from albumen.adapters.sidecars import LocalSidecarStore, S3SidecarStore, SidecarCopies
from albumen.adapters.system import LocalLocks, RateLimits, RedisLocks, SystemClock
from albumen.adapters.tiers import TieredBlobStore
from albumen.config import Settings
from albumen.domain.errors import DatabaseDamaged
from albumen.domain.tiers import Tier
from albumen.ports import BlobStore, Cache, Clock, Locks, SearchIndex, SidecarStore, VectorIndex

if TYPE_CHECKING:
    from redis import Redis

    from albumen.adapters.db.monitor import QueryMonitor
    from albumen.adapters.s3 import S3BlobStore

log = logging.getLogger(__name__)
# One set of timeouts for every use of Redis (cache, queue, locks, marks, rate limits): long
# enough for the queue's blocking reads (1 s), short enough that a hung Redis costs a request
# two seconds before the cache steps aside.
REDIS_TIMEOUT_SECONDS = 2.0
REDIS_CONNECT_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Stores:
    """The blob stores of one library, as the settings name them."""

    hot: BlobStore  # where new blobs land
    staging_dir: Path  # a local folder where uploads are written (and hashed) first
    tiers: dict[Tier, BlobStore]  # hot, and warm and cold when configured
    primary: BlobStore  # the tiers as one store
    mirror: BlobStore | None
    blobs: BlobStore  # what services use: the primary, with the mirror when there is one
    sidecars: SidecarStore  # metadata sidecars beside the blobs, in the primary and the mirror


@dataclass(frozen=True)
class Infrastructure:
    """The adapters of one library's world, built once by ``build_infrastructure``."""

    settings: Settings
    engine: Engine
    reads: ReadRouting  # the primary, or a replica that has the user's own writes
    stores: Stores
    parts: LocalUploadParts  # resumable uploads' parts
    queue: HueyJobQueue
    thumbnail_cache: MemoryCache  # L1
    cache: Cache  # L1, with Redis (L2) behind it at scale
    locks: Locks
    limits: RateLimits
    clock: Clock
    redis: Redis | None
    database_file: DatabaseFile | None  # the embedded database's file, for readiness

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def search_index(self) -> SearchIndex:
        """The search index of the database: FTS5 and R*Tree, or tsvector and GiST."""
        if self.postgres:
            from albumen.adapters.db.search.postgres import PostgresSearchIndex

            return PostgresSearchIndex(self.engine, self.reads)
        return SqliteSearchIndex(self.engine)

    def vector_index(self, space: str, dimensions: int) -> VectorIndex:
        """Nearest neighbours in one space: pgvector in PostgreSQL, else usearch files."""
        if self.postgres:
            from albumen.adapters.db.vectors import PgVectorIndex

            return PgVectorIndex(self.engine, space, dimensions)
        from albumen.adapters.vectors import UsearchVectorIndex

        return UsearchVectorIndex(
            self.engine, self.settings.data_dir / "vectors", space, dimensions
        )

    def unready(self) -> list[str]:
        """What cannot be reached now: database, blob store, queue (empty: ready)."""
        checks: dict[str, Callable[[], object]] = {
            "database": self._ping_database,
            "blob_store": self.stores.blobs.check,
            "queue": self.queue.stats,
            "disk_space": self._check_space,
        }
        failing = []
        for name, check in checks.items():
            try:
                check()
            except Exception as err:
                log.warning("not ready", extra={"component": name, "error": str(err)})
                failing.append(name)
        return failing

    def _check_space(self) -> None:
        """The data folder's volume (staging, the embedded database and store) has room."""
        free = shutil.disk_usage(self.settings.data_dir).free
        if free < self.settings.min_free_mb * 2**20:
            raise OSError(errno.ENOSPC, f"{free // 2**20} MB free on the data folder's volume")

    def _ping_database(self) -> None:
        """A cheap look that the database answers, and on SQLite that its file is still one
        (16 KB of garbage over it left every call failing behind a ready server)."""
        if self.database_file is not None and (damage := self.database_file.damage()):
            raise DatabaseDamaged(f"the database is damaged: {damage}")
        with self.engine.connect() as conn:
            # read to the end: an unfinished SELECT would keep its snapshot on the pooled
            # connection, and the next request on it would read the past
            conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()

    def close(self) -> None:
        self.reads.close()
        self.engine.dispose()
        if self.database_file is not None:
            self.database_file.close()  # after the connections: see DatabaseFile


def build_infrastructure(settings: Settings, queries: QueryMonitor | None = None) -> Infrastructure:
    """The world the settings name; ``queries`` times every statement (slow-query monitor)."""
    engine = open_database(settings, queries)
    redis = redis_client(settings)
    stores = blob_stores(settings)
    thumbnail_cache = MemoryCache(settings.thumbnail_cache_bytes)
    cache: Cache = thumbnail_cache
    if redis is not None:
        cache = LayeredCache(thumbnail_cache, RedisCache(redis, settings.cache_ttl_seconds))
    return Infrastructure(
        settings=settings,
        engine=engine,
        reads=read_routing(settings, engine, redis),
        stores=stores,
        parts=LocalUploadParts(stores.staging_dir),
        queue=HueyJobQueue(redis, settings.queue_path),
        thumbnail_cache=thumbnail_cache,
        cache=cache,
        locks=LocalLocks() if redis is None else RedisLocks(redis),
        limits=RateLimits(redis),
        clock=SystemClock(),
        redis=redis,
        database_file=_database_file(settings),
    )


def pool_of(settings: Settings) -> Pool:
    return Pool(
        settings.database_pool_max_open,
        settings.database_pool_idle,
        settings.database_pool_lifetime_seconds,
        settings.database_pool_idle_timeout_seconds,
    )


def _database_file(settings: Settings) -> DatabaseFile | None:
    database = sqlite_file(settings.effective_database_url.reveal())
    return None if database is None else DatabaseFile(database)


def open_database(settings: Settings, queries: QueryMonitor | None = None) -> Engine:
    """The database, its schema brought up to date (after a checked backup, when it changes).
    A data folder that cannot be written, and an SQLite file that is not a database, are one
    clear error each (``DataDirUnusable``, ``DatabaseDamaged``)."""
    check_writable(settings.data_dir)
    engine = make_engine(settings.effective_database_url.reveal(), queries, pool_of(settings))
    try:
        backup_before_migrating(engine, settings.data_dir / "backups")
        migrate(engine)
    except DatabaseError as err:
        engine.dispose()
        database = sqlite_file(settings.effective_database_url.reveal())
        if database is None or not is_damage(err):
            raise
        damaged = DatabaseDamaged(
            f"the database {database} is damaged ({err.orig}): restore a backup (albumen"
            " restore), or rebuild it from the metadata sidecars (albumen rebuild-index moves"
            " the damaged file aside first)"
        )
        damaged.details["reason"] = str(err.orig)
        raise damaged from err
    return engine


def redis_client(settings: Settings) -> Redis | None:
    """The one Redis client of this process (its pool shared by every use), or ``None``."""
    if not settings.redis_url:
        return None
    if importlib.util.find_spec("redis") is None:
        raise RuntimeError("ALBUMEN_REDIS_URL needs the redis extra: pip install 'albumen[redis]'")
    from redis import Redis  # imported only where Redis is configured (a quarter second)

    return Redis.from_url(
        settings.redis_url.reveal(),
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
    )


def read_routing(settings: Settings, engine: Engine, redis: Redis | None) -> ReadRouting:
    """Where reads go: the primary alone, or also PostgreSQL's replicas when there are some."""
    if not settings.database_replica_urls or engine.dialect.name != "postgresql":
        return ReadRouting(engine, [], MemoryMarks())
    urls = settings.database_replica_urls
    replicas = [make_engine(url.reveal(), pool=pool_of(settings)) for url in urls]
    return ReadRouting(engine, replicas, MemoryMarks() if redis is None else RedisMarks(redis))


def blob_stores(settings: Settings) -> Stores:
    url, local = settings.effective_storage_url.reveal(), settings.data_dir / "s3-local"
    hot, hot_sidecars = _store(url, local)
    tiers: dict[Tier, BlobStore] = {Tier.HOT: hot}
    for tier, tier_url in (
        (Tier.WARM, settings.warm_storage_url),
        (Tier.COLD, settings.cold_storage_url),
    ):
        if tier_url:
            tiers[tier] = _store(tier_url.reveal(), settings.data_dir / f"s3-{tier.value}")[0]
    primary: BlobStore = hot if len(tiers) == 1 else TieredBlobStore(tiers)
    sidecars: list[SidecarStore] = [hot_sidecars]
    mirror: LocalBlobStore | S3BlobStore | None = None
    if settings.mirror_url:
        mirror_url = settings.mirror_url.reveal()
        mirror, mirror_sidecars = _store(mirror_url, settings.data_dir / "s3-mirror")
        sidecars.append(mirror_sidecars)
    blobs = primary if mirror is None else MirroredBlobStore(primary, mirror)
    return Stores(hot, hot.staging_dir, tiers, primary, mirror, blobs, SidecarCopies(sidecars))


def _store(url: str, local: Path) -> tuple[LocalBlobStore | S3BlobStore, SidecarStore]:
    """A blob store by its URL (``file://`` a folder, ``s3://`` a bucket) and its sidecars."""
    if urlsplit(url).scheme == "s3":
        from albumen.adapters.s3 import s3_store  # boto3 is loaded only where S3 is used

        store = s3_store(url, local)
        return store, S3SidecarStore(store.client, store.bucket)
    root = blob_root(url)
    return LocalBlobStore(root), LocalSidecarStore(root)


def blob_root(storage_url: str) -> Path:
    parts = urlsplit(storage_url)
    if parts.scheme != "file":
        raise ValueError(f"a local store needs a file:// URL, not {parts.scheme}://")
    return Path(url2pathname(parts.path))
