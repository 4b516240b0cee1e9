"""The composition root: reads settings once and wires adapters into services.

The web application that serves them is in ``albumen.web``, so that CLI commands which never
serve HTTP do not pay for importing the web framework.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from sqlalchemy import Engine, text

from albumen.adapters.blobs import LocalBlobStore, LocalUploadParts
from albumen.adapters.cache import MemoryCache
from albumen.adapters.clip import OnnxClip
from albumen.adapters.db.albums import SqlAlbumRepo
from albumen.adapters.db.analysis import SqlAnalysisRepo
from albumen.adapters.db.engine import make_engine, migrate
from albumen.adapters.db.people import SqlPeopleRepo
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.search import SqliteSearchIndex
from albumen.adapters.db.shares import SqlShareRepo
from albumen.adapters.db.uploads import SqlUploadRepo
from albumen.adapters.db.users import SqlUserRepo
from albumen.adapters.exif import PillowMetadataReader
from albumen.adapters.geo import OfflineGeocoder
from albumen.adapters.media import VipsThumbnailer
from albumen.adapters.ml import OpenCvAnalyzer
from albumen.adapters.queue import HueyJobQueue, make_huey
from albumen.adapters.system import Argon2Hasher, MemoryRateLimiter, SystemClock
from albumen.adapters.vectors import UsearchVectorIndex
from albumen.config import Settings
from albumen.domain.analysis import CLIP
from albumen.domain.jobs import JobName
from albumen.jobs import register_jobs
from albumen.services.albums import AlbumService
from albumen.services.analysis import AnalysisService
from albumen.services.jobs import JobService
from albumen.services.people import PeopleService
from albumen.services.photos import PhotoService
from albumen.services.processing import ProcessingService, SweepService
from albumen.services.search import SearchService
from albumen.services.shares import ShareService
from albumen.services.similar import SimilarService
from albumen.services.trash import TrashService
from albumen.services.uploads import UploadService
from albumen.services.users import UserService

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

    def ready(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def blob_root(storage_url: str) -> Path:
    parts = urlsplit(storage_url)
    if parts.scheme != "file":
        raise ValueError(f"storage scheme {parts.scheme!r} is not supported yet; use file://")
    return Path(url2pathname(parts.path))


def build_services(settings: Settings) -> Services:
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    clock = SystemClock()
    blobs = LocalBlobStore(blob_root(settings.effective_storage_url))
    parts = LocalUploadParts(blobs.staging_dir)
    photo_repo, upload_repo = SqlPhotoRepo(engine), SqlUploadRepo(engine)
    album_repo, user_repo = SqlAlbumRepo(engine), SqlUserRepo(engine)
    queue = HueyJobQueue(make_huey(settings.redis_url, settings.queue_path))
    thumbnailer = VipsThumbnailer(settings.max_image_pixels)
    hasher = Argon2Hasher()
    grace = timedelta(seconds=settings.sweep_grace_seconds)
    photos = PhotoService(
        photo_repo,
        album_repo,
        blobs,
        queue,
        thumbnailer,
        MemoryCache(settings.thumbnail_cache_bytes),
        clock,
        settings.max_upload_bytes,
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
    vectors = settings.data_dir / "vectors"
    similar = SimilarService(
        photo_repo,
        analysis_repo,
        UsearchVectorIndex(engine, vectors),
        clip,
        UsearchVectorIndex(engine, vectors, CLIP, clip.dimensions) if clip else None,
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
        MemoryRateLimiter(settings.share_password_attempts),
        clock,
        secret_key(settings),
    )
    people = PeopleService(SqlPeopleRepo(engine), clock)
    register_jobs(queue, processing, analysis, people, sweep, trash, settings.job_retries)
    return Services(
        settings=settings,
        engine=engine,
        queue=queue,
        photos=photos,
        albums=albums,
        analysis=analysis,
        people=people,
        similar=similar,
        search=SearchService(SqliteSearchIndex(engine), albums),
        shares=shares,
        trash=trash,
        uploads=UploadService(upload_repo, parts, photos, clock, settings.max_upload_bytes),
        users=UserService(user_repo, hasher, clock),
        processing=processing,
        sweep=sweep,
        jobs=JobService(queue, photo_repo),
    )


def secret_key(settings: Settings) -> bytes:
    """The configured secret, or one made once and kept (0600) in the data dir."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_hex(32).encode())
            out.flush()
            os.fsync(out.fileno())
    return path.read_bytes()


def start_background_work(services: Services) -> None:
    """After a restart: queue unfinished photos again, and tidy the store."""
    services.processing.recover()
    services.queue.enqueue(JobName.SWEEP_BLOBS)
    services.queue.enqueue(JobName.EXPIRE_UPLOADS)
    services.queue.enqueue(JobName.EXPIRE_TRASH)
    services.queue.enqueue(JobName.LOCATE_PHOTOS)
