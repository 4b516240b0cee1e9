"""The composition root: reads settings once and wires adapters into services.

The web application that serves them is in ``albumen.web``, so that CLI commands which never
serve HTTP do not pay for importing the web framework.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

import psutil
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, text

from albumen.adapters.blobs import LocalBlobStore, LocalUploadParts
from albumen.adapters.cache import LayeredCache, MemoryCache, RedisCache
from albumen.adapters.clip import OnnxClip
from albumen.adapters.db.albums import SqlAlbumRepo
from albumen.adapters.db.analysis import SqlAnalysisRepo
from albumen.adapters.db.engine import Pool, make_engine, migrate
from albumen.adapters.db.instance import SqlInstanceSecrets
from albumen.adapters.db.monitor import QueryMonitor
from albumen.adapters.db.people import SqlPeopleRepo
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.references import SqlBlobReferences
from albumen.adapters.db.replicas import MemoryMarks, ReadRouting, RedisMarks
from albumen.adapters.db.search import SqliteSearchIndex
from albumen.adapters.db.shares import SqlShareRepo
from albumen.adapters.db.sidecars import SqlSidecarRepo
from albumen.adapters.db.snapshot import SqliteSnapshots, backup_before_migrating
from albumen.adapters.db.tiers import SqlTierRepo
from albumen.adapters.db.uploads import SqlUploadRepo
from albumen.adapters.db.users import SqlUserRepo
from albumen.adapters.exif import PillowMetadataReader
from albumen.adapters.geo import OfflineGeocoder
from albumen.adapters.media import VipsThumbnailer
from albumen.adapters.metrics import AppCollector, CacheStats, HostCollector, app_registry
from albumen.adapters.mirror import MirroredBlobStore
from albumen.adapters.ml import OpenCvAnalyzer
from albumen.adapters.monitor import Sampler
from albumen.adapters.queue import HueyJobQueue, make_hueys
from albumen.adapters.s3 import S3BlobStore
from albumen.adapters.sidecars import LocalSidecarStore, S3SidecarStore, SidecarCopies
from albumen.adapters.system import (
    Argon2Hasher,
    LocalLocks,
    RateLimiter,
    RedisLocks,
    SystemClock,
    SystemProcesses,
)
from albumen.adapters.tiers import TieredBlobStore
from albumen.adapters.vectors import DIMENSIONS, UsearchVectorIndex
from albumen.adapters.webhook import WebhookNotifier
from albumen.config import Settings
from albumen.domain.analysis import CLIP, LIKENESS
from albumen.domain.jobs import JobName
from albumen.domain.tiers import PRICES, LifecyclePolicy, Tier, TierPrice
from albumen.jobs import register_jobs
from albumen.ports import (
    BlobStore,
    Cache,
    Clock,
    SearchIndex,
    SidecarStore,
    TunableCache,
    VectorIndex,
)
from albumen.services.albums import AlbumService
from albumen.services.alerts import AlertService
from albumen.services.analysis import AnalysisService
from albumen.services.backup import BackupService
from albumen.services.caching import CacheOptimizer
from albumen.services.jobs import JobService
from albumen.services.people import PeopleService
from albumen.services.photos import PhotoService
from albumen.services.prefetch import PrefetchService
from albumen.services.processing import ProcessingService, SweepService
from albumen.services.scrub import ScrubService
from albumen.services.search import SearchService
from albumen.services.shares import ShareService
from albumen.services.sidecars import SidecarService
from albumen.services.similar import SimilarService
from albumen.services.tiers import TierService
from albumen.services.trash import TrashService
from albumen.services.uploads import UploadService
from albumen.services.users import UserService

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    queue: HueyJobQueue
    photos: PhotoService
    albums: AlbumService
    analysis: AnalysisService
    people: PeopleService
    similar: SimilarService
    search: SearchService
    shares: ShareService
    trash: TrashService
    uploads: UploadService
    users: UserService
    processing: ProcessingService
    sweep: SweepService
    jobs: JobService
    queries: QueryMonitor
    registry: CollectorRegistry
    sampler: Sampler
    alerts: AlertService
    notifier: WebhookNotifier | None
    blobs: BlobStore
    stores: Stores
    scrub: ScrubService
    thumbnail_cache: MemoryCache
    cache: Cache  # the thumbnail cache with L2 behind it, when Redis is configured
    optimizer: CacheOptimizer
    prefetch: PrefetchService
    sidecars: SidecarService
    tiers: TierService
    reads: ReadRouting  # the primary, or a replica that has the user's own writes

    def unready(self) -> list[str]:
        """What the service cannot reach now: database, blob store, queue (empty: ready)."""
        checks: dict[str, Callable[[], object]] = {
            "database": self._ping_database,
            "blob_store": self.blobs.check,
            "queue": self.queue.stats,
        }
        failing = []
        for name, check in checks.items():
            try:
                check()
            except Exception as err:
                log.warning("not ready", extra={"component": name, "error": str(err)})
                failing.append(name)
        return failing

    def _ping_database(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.reads.close()
        self.prefetch.close()
        if self.notifier is not None:
            self.notifier.close()
        self.engine.dispose()


def blob_root(storage_url: str) -> Path:
    parts = urlsplit(storage_url)
    if parts.scheme != "file":
        raise ValueError(f"a local store needs a file:// URL, not {parts.scheme}://")
    return Path(url2pathname(parts.path))


def vector_index(settings: Settings, engine: Engine, space: str, dimensions: int) -> VectorIndex:
    """Nearest neighbours in one space: pgvector in PostgreSQL, else usearch files."""
    if engine.dialect.name == "postgresql":
        from albumen.adapters.db.vectors import PgVectorIndex

        return PgVectorIndex(engine, space, dimensions)
    return UsearchVectorIndex(engine, settings.data_dir / "vectors", space, dimensions)


def search_index(engine: Engine, reads: ReadRouting | None = None) -> SearchIndex:
    """The search index of the engine's database: FTS5 and R*Tree, or tsvector and GiST."""
    if engine.dialect.name == "postgresql":
        from albumen.adapters.db.pgsearch import PostgresSearchIndex

        return PostgresSearchIndex(engine, reads)
    return SqliteSearchIndex(engine)


def read_routing(settings: Settings, engine: Engine) -> ReadRouting:
    """Where reads go: the primary alone, or also PostgreSQL's replicas when there are some."""
    if not settings.database_replica_urls or engine.dialect.name != "postgresql":
        return ReadRouting(engine, [], MemoryMarks())
    replicas = [
        make_engine(url.reveal(), pool=pool_of(settings)) for url in settings.database_replica_urls
    ]
    marks = RedisMarks(settings.redis_url.reveal()) if settings.redis_url else MemoryMarks()
    return ReadRouting(engine, replicas, marks)


def pool_of(settings: Settings) -> Pool:
    return Pool(
        settings.database_pool_max_open,
        settings.database_pool_idle,
        settings.database_pool_lifetime_seconds,
        settings.database_pool_idle_timeout_seconds,
    )


def open_database(settings: Settings, queries: QueryMonitor | None = None) -> Engine:
    """The database, its schema brought up to date (after a checked backup, when it changes)."""
    engine = make_engine(settings.effective_database_url.reveal(), queries, pool_of(settings))
    backup_before_migrating(engine, settings.data_dir / "backups")
    migrate(engine)
    return engine


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


def blob_stores(settings: Settings) -> Stores:
    hot, hot_sidecars = _store(
        settings.effective_storage_url.reveal(), settings.data_dir / "s3-local"
    )
    tiers: dict[Tier, BlobStore] = {Tier.HOT: hot}
    for tier, url in (
        (Tier.WARM, settings.warm_storage_url),
        (Tier.COLD, settings.cold_storage_url),
    ):
        if url:
            tiers[tier] = _store(url.reveal(), settings.data_dir / f"s3-{tier.value}")[0]
    primary: BlobStore = hot if len(tiers) == 1 else TieredBlobStore(tiers)
    sidecars: list[SidecarStore] = [hot_sidecars]
    mirror: LocalBlobStore | S3BlobStore | None = None
    if settings.mirror_url:
        mirror, mirror_sidecars = _store(
            settings.mirror_url.reveal(), settings.data_dir / "s3-mirror"
        )
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


def redis_client(settings: Settings) -> Redis:
    from redis import Redis  # imported only where Redis is configured (a quarter second)

    return Redis.from_url(
        settings.redis_url.reveal(), socket_timeout=1.0, socket_connect_timeout=1.0
    )


def tier_prices(settings: Settings) -> dict[Tier, TierPrice]:
    """The prices and latencies of the tiers, the defaults where the settings name none."""
    return {
        tier: TierPrice(
            settings.tier_storage_prices.get(tier.value, PRICES[tier].storage_gb_month),
            settings.tier_retrieval_prices.get(tier.value, PRICES[tier].retrieval_gb),
            settings.tier_latency_seconds.get(tier.value, PRICES[tier].latency_seconds),
        )
        for tier in Tier
    }


def backup_service(settings: Settings, engine: Engine, blobs: BlobStore) -> BackupService:
    """Backups of this library (SQLite only: ``InvalidInput`` says what to do otherwise)."""
    secret = None if settings.secret_key else settings.data_dir / "secret.key"
    return BackupService(SqliteSnapshots(engine), blobs, SystemClock(), secret)


def user_service(settings: Settings) -> tuple[UserService, Callable[[], None]]:
    """The users' use cases alone, on the database alone (the ``users`` commands), and what
    closes them."""
    engine = open_database(settings)
    return _users(settings, engine), engine.dispose


def _users(settings: Settings, engine: Engine) -> UserService:
    return UserService(
        SqlUserRepo(engine),
        Argon2Hasher(),
        SystemClock(),
        RateLimiter(settings.sign_in_attempts, settings.redis_url.reveal(), "sign_in"),
        timedelta(days=settings.session_days),
    )


def build_services(settings: Settings) -> Services:
    queries = QueryMonitor(settings.slow_query_ms)
    engine = open_database(settings, queries)
    clock = SystemClock()
    stores = blob_stores(settings)
    blobs = stores.blobs
    parts = LocalUploadParts(stores.staging_dir)
    reads = read_routing(settings, engine)
    photo_repo, upload_repo = SqlPhotoRepo(engine, reads), SqlUploadRepo(engine)
    album_repo, user_repo = SqlAlbumRepo(engine), SqlUserRepo(engine)
    queue = HueyJobQueue(make_hueys(settings.redis_url.reveal(), settings.queue_path))
    thumbnailer = VipsThumbnailer(settings.max_image_pixels)
    hasher = Argon2Hasher()
    grace = timedelta(seconds=settings.sweep_grace_seconds)
    thumbnail_cache = MemoryCache(settings.thumbnail_cache_bytes)
    cache: Cache = thumbnail_cache
    if settings.redis_url:
        cache = LayeredCache(
            thumbnail_cache, RedisCache(redis_client(settings), settings.cache_ttl_seconds)
        )
    tiers = TierService(
        SqlTierRepo(engine),
        stores.tiers,
        queue,
        clock,
        LifecyclePolicy(
            timedelta(days=settings.warm_after_days), timedelta(days=settings.cold_after_days)
        ),
        tier_prices(settings),
    )
    photos = PhotoService(
        photo_repo,
        album_repo,
        blobs,
        queue,
        thumbnailer,
        cache,
        clock,
        settings.max_upload_bytes,
        tiers,
        settings.presign_originals_seconds,
        RedisLocks(settings.redis_url.reveal()) if settings.redis_url else LocalLocks(),
    )
    albums = AlbumService(album_repo, photos, user_repo, clock)
    processing = ProcessingService(
        photo_repo,
        blobs,
        PillowMetadataReader(settings.max_image_pixels),
        thumbnailer,
        OfflineGeocoder(),
        queue,
        clock,
        analyse=settings.analysis,
        processes=SystemProcesses(),
    )
    analysis_repo = SqlAnalysisRepo(engine)
    clip = OnnxClip(settings.clip_model_dir) if settings.clip_model_dir else None
    analysis = AnalysisService(
        photo_repo,
        analysis_repo,
        blobs,
        OpenCvAnalyzer(settings.analysis_threads),
        queue,
        clock,
        clip,
    )
    similar = SimilarService(
        photo_repo,
        analysis_repo,
        vector_index(settings, engine, LIKENESS, DIMENSIONS),
        clip,
        vector_index(settings, engine, CLIP, clip.dimensions) if clip else None,
    )
    sweep = SweepService(
        photo_repo,
        blobs,
        upload_repo,
        parts,
        clock,
        grace=grace,
        upload_expiry=timedelta(seconds=settings.upload_expiry_seconds),
    )
    trash = TrashService(
        photos, photo_repo, blobs, clock, timedelta(days=settings.trash_days), grace
    )
    shares = ShareService(
        SqlShareRepo(engine),
        album_repo,
        photos,
        hasher,
        RateLimiter(settings.share_password_attempts, settings.redis_url.reveal(), "share"),
        clock,
        secret_key(settings, engine, clock),
    )
    people = PeopleService(SqlPeopleRepo(engine), clock)
    mirror = stores.mirror
    sidecars = SidecarService(SqlSidecarRepo(engine), stores.sidecars)
    register_jobs(
        queue, processing, analysis, people, sweep, trash, sidecars, tiers, settings.job_retries
    )
    caches = [
        CacheStats(
            thumbnail_cache.level,
            thumbnail_cache.size,
            lambda: thumbnail_cache.max_bytes,
            thumbnail_cache.hit_ratio,
        )
    ]
    if isinstance(cache, LayeredCache):
        caches.append(
            CacheStats(cache.l2.level, cache.l2.size, cache.l2.capacity, cache.l2.hit_ratio)
        )
    prefetch = PrefetchService(photos.warm, settings.prefetch_threshold, enabled=settings.prefetch)
    registry = app_registry(
        AppCollector(queue.stats, engine, caches, prefetch.stats), HostCollector(settings.data_dir)
    )
    sampler = Sampler(registry)
    tunable: list[TunableCache] = [thumbnail_cache]
    ceilings = {thumbnail_cache.level: psutil.virtual_memory().total // 4}
    if isinstance(cache, LayeredCache):
        tunable.append(cache.l2)
        ceilings[cache.l2.level] = 4 * max(cache.l2.capacity(), settings.thumbnail_cache_bytes)
    optimizer = CacheOptimizer(
        lambda: sampler.figures(sampler.keep_seconds).caches,
        tunable,
        ceilings,
        settings.cache_optimizer_apply,
    )
    webhook = settings.alert_webhook_url
    notifier = WebhookNotifier(webhook.reveal()) if webhook else None
    return Services(
        settings=settings,
        engine=engine,
        queue=queue,
        photos=photos,
        albums=albums,
        analysis=analysis,
        people=people,
        similar=similar,
        search=SearchService(search_index(engine, reads), albums),
        shares=shares,
        trash=trash,
        uploads=UploadService(upload_repo, parts, photos, clock, settings.max_upload_bytes),
        users=_users(settings, engine),
        processing=processing,
        sweep=sweep,
        jobs=JobService(queue, photo_repo),
        queries=queries,
        registry=registry,
        sampler=sampler,
        alerts=AlertService(sampler.figures, clock, notifier),
        notifier=notifier,
        blobs=blobs,
        stores=stores,
        thumbnail_cache=thumbnail_cache,
        cache=cache,
        optimizer=optimizer,
        prefetch=prefetch,
        sidecars=sidecars,
        tiers=tiers,
        reads=reads,
        scrub=ScrubService(SqlBlobReferences(engine), stores.primary, mirror, clock, grace),
    )


def secret_key(settings: Settings, engine: Engine, clock: Clock) -> bytes:
    """The configured secret, or the deployment's own, made once and kept in its database
    (every API process signs alike). A key an older version kept in the data dir is the one
    taken in."""
    if settings.secret_key:
        return settings.secret_key.reveal().encode()
    legacy = settings.data_dir / "secret.key"

    def make() -> str:
        return legacy.read_text().strip() if legacy.exists() else secrets.token_hex(32)

    return SqlInstanceSecrets(engine, clock).get_or_make("share_signing", make).encode()


def start_background_work(services: Services) -> None:
    """After a restart: queue unfinished photos again, and tidy the store."""
    services.processing.recover()
    services.queue.enqueue(JobName.SWEEP_BLOBS)
    services.queue.enqueue(JobName.EXPIRE_UPLOADS)
    services.queue.enqueue(JobName.EXPIRE_TRASH)
    services.queue.enqueue(JobName.LOCATE_PHOTOS)
    services.queue.enqueue(JobName.WRITE_SIDECARS)


@contextmanager
def monitoring(services: Services) -> Iterator[None]:
    """Snapshots for the dashboard and the alert rules judged, in a thread, while serving."""
    stop = threading.Event()
    sampler, interval = services.sampler, services.settings.alert_interval_seconds

    def loop() -> None:
        next_evaluation = time.monotonic() + interval
        while not stop.wait(sampler.every):
            try:
                if time.monotonic() >= next_evaluation:
                    services.alerts.evaluate()  # samples too
                    services.optimizer.tune()
                    next_evaluation += interval
                else:
                    sampler.sample()
            except Exception:
                log.exception("monitoring failed; trying again")

    thread = threading.Thread(target=loop, name="monitoring", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
