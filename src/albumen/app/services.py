"""``Services``: the use cases, each built with keyword arguments from the infrastructure."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from albumen.adapters.db.albums import SqlAlbumRepo
from albumen.adapters.db.analysis import SqlAnalysisRepo
from albumen.adapters.db.damage import SqlDamagedBlobs
from albumen.adapters.db.instance import SqlInstanceSecrets
from albumen.adapters.db.maps import SqlMapIndex
from albumen.adapters.db.memories import SqlMemoryRepo
from albumen.adapters.db.people import SqlPeopleRepo
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.references import SqlBlobReferences
from albumen.adapters.db.shares import SqlShareRepo
from albumen.adapters.db.sidecars import SqlSidecarRepo
from albumen.adapters.db.snapshot import SqliteSnapshots
from albumen.adapters.db.tiers import SqlTierRepo
from albumen.adapters.db.uploads import SqlUploadRepo
from albumen.adapters.db.users import SqlUserRepo
from albumen.adapters.exif import PillowMetadataReader
from albumen.adapters.geo import OfflineGeocoder
from albumen.adapters.media import VipsThumbnailer
from albumen.adapters.ml import OpenCvAnalyzer
from albumen.adapters.system import Argon2Hasher, SystemClock, SystemProcesses
from albumen.adapters.vectors import DIMENSIONS
from albumen.app.infrastructure import Infrastructure
from albumen.config import Settings
from albumen.domain.analysis import CLIP, LIKENESS
from albumen.domain.tiers import PRICES, LifecyclePolicy, Tier, TierPrice
from albumen.jobs import register_jobs
from albumen.ports import BlobStore, Clock
from albumen.services.albums import AlbumService
from albumen.services.analysis import AnalysisService
from albumen.services.archives import ArchiveService
from albumen.services.backup import BackupService
from albumen.services.jobs import JobService
from albumen.services.maps import MapService
from albumen.services.memories import MemoryService
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
    from albumen.adapters.clip import OnnxClip


@dataclass(frozen=True)
class Services:
    """What Albumen does, one use case per noun; nothing here is an engine or a queue."""

    photos: PhotoService
    albums: AlbumService
    archives: ArchiveService
    maps: MapService
    memories: MemoryService
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
    scrub: ScrubService
    prefetch: PrefetchService
    sidecars: SidecarService
    tiers: TierService

    def close(self) -> None:
        self.prefetch.close()


def build_services(infra: Infrastructure) -> Services:
    """Every use case of the library, and the jobs registered with its queue."""
    settings, engine, clock, queue = infra.settings, infra.engine, infra.clock, infra.queue
    blobs = infra.stores.blobs
    photo_repo = SqlPhotoRepo(engine, infra.reads)
    album_repo, user_repo, analysis_repo = (
        SqlAlbumRepo(engine),
        SqlUserRepo(engine),
        SqlAnalysisRepo(engine),
    )
    uploads = SqlUploadRepo(engine)
    grace = timedelta(seconds=settings.sweep_grace_seconds)
    thumbnailer = VipsThumbnailer(settings.max_image_pixels)
    tiers = tier_service(infra)
    clip = _clip(settings)
    photos = PhotoService(
        photos=photo_repo,
        access=album_repo,
        blobs=blobs,
        queue=queue,
        thumbnailer=thumbnailer,
        cache=infra.cache,
        clock=clock,
        max_upload_bytes=settings.max_upload_bytes,
        tiers=tiers,
        damaged=SqlDamagedBlobs(engine),
        presign_seconds=settings.presign_originals_seconds,
        locks=infra.locks,
    )
    albums = AlbumService(albums=album_repo, photos=photos, users=user_repo, clock=clock)
    services = Services(
        photos=photos,
        albums=albums,
        archives=ArchiveService(photos),
        maps=MapService(index=SqlMapIndex(engine), albums=albums),
        memories=MemoryService(repo=SqlMemoryRepo(engine), clock=clock),
        analysis=AnalysisService(
            photos=photo_repo,
            analyses=analysis_repo,
            blobs=blobs,
            analyzer=OpenCvAnalyzer(settings.analysis_threads),
            queue=queue,
            clock=clock,
            clip=clip,
        ),
        people=PeopleService(people=SqlPeopleRepo(engine), clock=clock),
        similar=SimilarService(
            photos=photo_repo,
            analyses=analysis_repo,
            index=infra.vector_index(LIKENESS, DIMENSIONS),
            clip=clip,
            clip_index=infra.vector_index(CLIP, clip.dimensions) if clip else None,
        ),
        search=SearchService(index=infra.search_index(), albums=albums),
        shares=ShareService(
            shares=SqlShareRepo(engine),
            albums=album_repo,
            photos=photos,
            hasher=Argon2Hasher(),
            limiter=infra.limits.limiter(settings.share_password_attempts, "share"),
            clock=clock,
            secret=secret_key(settings, engine, clock),
        ),
        trash=TrashService(
            photos=photos,
            repo=photo_repo,
            blobs=blobs,
            clock=clock,
            retention=timedelta(days=settings.trash_days),
            grace=grace,
        ),
        uploads=UploadService(
            uploads=uploads,
            parts=infra.parts,
            photos=photos,
            clock=clock,
            processes=SystemProcesses(),
            max_bytes=settings.max_upload_bytes,
        ),
        users=user_service(infra),
        processing=ProcessingService(
            photos=photo_repo,
            blobs=blobs,
            reader=PillowMetadataReader(settings.max_image_pixels),
            thumbnailer=thumbnailer,
            geocoder=OfflineGeocoder(),
            queue=queue,
            clock=clock,
            analyse=settings.analysis,
            processes=SystemProcesses(),
        ),
        sweep=SweepService(
            photos=photo_repo,
            blobs=blobs,
            uploads=uploads,
            parts=infra.parts,
            clock=clock,
            grace=grace,
            upload_expiry=timedelta(seconds=settings.upload_expiry_seconds),
        ),
        jobs=JobService(queue=queue, photos=photo_repo),
        scrub=ScrubService(
            references=SqlBlobReferences(engine),
            primary=infra.stores.primary,
            mirror=infra.stores.mirror,
            damaged=SqlDamagedBlobs(engine),
            clock=clock,
            grace=grace,
        ),
        prefetch=PrefetchService(
            warm=photos.warm, threshold=settings.prefetch_threshold, enabled=settings.prefetch
        ),
        sidecars=SidecarService(repo=SqlSidecarRepo(engine), store=infra.stores.sidecars),
        tiers=tiers,
    )
    register_jobs(queue, services, settings.job_retries)
    return services


def user_service(infra: Infrastructure) -> UserService:
    """The users' use cases (all that ``albumen users`` builds)."""
    settings = infra.settings
    return UserService(
        users=SqlUserRepo(infra.engine),
        hasher=Argon2Hasher(),
        clock=infra.clock,
        limiter=infra.limits.limiter(settings.sign_in_attempts, "sign_in"),
        session_lifetime=timedelta(days=settings.session_days),
    )


def tier_service(infra: Infrastructure) -> TierService:
    settings = infra.settings
    return TierService(
        repo=SqlTierRepo(infra.engine),
        stores=infra.stores.tiers,
        queue=infra.queue,
        clock=infra.clock,
        policy=LifecyclePolicy(
            timedelta(days=settings.warm_after_days), timedelta(days=settings.cold_after_days)
        ),
        prices=tier_prices(settings),
    )


def backup_service(settings: Settings, engine: Engine, blobs: BlobStore) -> BackupService:
    """Backups of this library (SQLite only: ``InvalidInput`` says what to do otherwise). Given
    the engine, not the infrastructure: a restore works before there is a schema."""
    secret = None if settings.secret_key else settings.data_dir / "secret.key"
    return BackupService(
        snapshots=SqliteSnapshots(engine), blobs=blobs, clock=SystemClock(), secret=secret
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


def _clip(settings: Settings) -> OnnxClip | None:
    """The CLIP model for search by words, when one is configured (onnxruntime loads with it)."""
    if settings.clip_model_dir is None:
        return None
    from albumen.adapters.clip import OnnxClip

    return OnnxClip(settings.clip_model_dir)
