"""The composition root: reads settings once and wires adapters into services."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from fastapi import FastAPI
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from albumen import __version__
from albumen.adapters.blobs import LocalBlobStore, LocalUploadParts
from albumen.adapters.cache import MemoryCache
from albumen.adapters.db.engine import make_engine, migrate
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.uploads import SqlUploadRepo
from albumen.adapters.db.users import SqlUserRepo
from albumen.adapters.exif import PillowMetadataReader
from albumen.adapters.media import VipsThumbnailer
from albumen.adapters.queue import HueyJobQueue, make_huey, running_workers
from albumen.adapters.system import Argon2Hasher, SystemClock
from albumen.api import ops, photos, thumbnails, uploads
from albumen.api.errors import install_error_handlers
from albumen.config import Settings
from albumen.domain.jobs import JobName
from albumen.jobs import register_jobs
from albumen.logs import request_id
from albumen.services.jobs import JobService
from albumen.services.photos import PhotoService
from albumen.services.processing import ProcessingService, SweepService
from albumen.services.uploads import UploadService
from albumen.services.users import UserService

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    queue: HueyJobQueue
    photos: PhotoService
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
    queue = HueyJobQueue(make_huey(settings.redis_url, settings.queue_path))
    thumbnailer = VipsThumbnailer(settings.max_image_pixels)
    photo_service = PhotoService(
        photo_repo,
        blobs,
        queue,
        thumbnailer,
        MemoryCache(settings.thumbnail_cache_bytes),
        clock,
        settings.max_upload_bytes,
    )
    processing = ProcessingService(
        photo_repo,
        blobs,
        PillowMetadataReader(settings.max_image_pixels),
        thumbnailer,
        queue,
        clock,
    )
    sweep = SweepService(
        photo_repo,
        blobs,
        upload_repo,
        parts,
        clock,
        grace=timedelta(seconds=settings.sweep_grace_seconds),
        upload_expiry=timedelta(seconds=settings.upload_expiry_seconds),
    )
    register_jobs(queue, processing, sweep, settings.job_retries)
    return Services(
        settings=settings,
        engine=engine,
        queue=queue,
        photos=photo_service,
        uploads=UploadService(upload_repo, parts, photo_service, clock, settings.max_upload_bytes),
        users=UserService(SqlUserRepo(engine), Argon2Hasher(), clock),
        processing=processing,
        sweep=sweep,
        jobs=JobService(queue, photo_repo),
    )


def start_background_work(services: Services) -> None:
    """After a restart: queue unfinished photos again, and tidy the store."""
    services.processing.recover()
    services.queue.enqueue(JobName.SWEEP_BLOBS)
    services.queue.enqueue(JobName.EXPIRE_UPLOADS)


class RequestIdMiddleware:
    """Gives each request an id (or keeps the client's), for logs and error bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        text = given.decode("latin-1")[:64]
        rid = text if text.isprintable() and text else os.urandom(8).hex()
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The web application. Without ``services``, it builds its own and owns their workers."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            if app.state.services is None:
                app.state.services = build_services(settings)
                stack.callback(app.state.services.close)
                start_background_work(app.state.services)
                if settings.run_workers_in_server:
                    huey = app.state.services.queue.huey
                    stack.enter_context(running_workers(huey, settings.job_workers))
            yield

    app = FastAPI(
        title="Albumen",
        version=__version__,
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry hook checks the global providers on every request
        # (~10 of the ~34 us a cached thumbnail costs); Albumen does not export OTel.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    app.router.routes.insert(0, thumbnails.route)  # matched first: it is the hottest
    for module in (photos, uploads, ops):
        app.include_router(module.router)
    _describe(app, thumbnails.PATH, thumbnails.OPENAPI)
    return app


def _describe(app: FastAPI, path: str, operations: dict[str, Any]) -> None:
    """Add a plain Starlette route to the OpenAPI schema FastAPI generates."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        schema["paths"].setdefault(path, operations)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
