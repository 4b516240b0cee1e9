"""Settings: one frozen object read from ``ALBUMEN_*`` variables and an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, computed_field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Every option Albumen reads. Documented field by field in ``docs/configuration.md``."""

    model_config = SettingsConfigDict(env_prefix="ALBUMEN_", frozen=True, extra="forbid")

    data_dir: Path = Field(Path("data"), description="Holds everything of the embedded default.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in data_dir.")
    database_replica_urls: list[str] = Field(
        [],
        description="PostgreSQL streaming replicas (a JSON list of URLs) for timeline and"
        " search reads; each user's reads still follow their own writes.",
    )
    database_pool_max_open: int = Field(
        100, ge=1, description="PostgreSQL: most connections one process holds open at once."
    )
    database_pool_idle: int = Field(
        25, ge=0, description="PostgreSQL: connections a process keeps open while idle."
    )
    database_pool_lifetime_seconds: int = Field(
        300, gt=0, description="PostgreSQL: a connection older than this is closed and remade."
    )
    database_pool_idle_timeout_seconds: int = Field(
        60, gt=0, description="PostgreSQL: a connection idle this long is remade before use."
    )
    storage_url: str = Field("", description="Blob store URL; empty means file:// data_dir/blobs.")
    redis_url: str = Field(
        "", description="Redis URL for the job queue and the L2 cache; empty means embedded."
    )
    presign_originals_seconds: int = Field(
        0,
        ge=0,
        description="With S3: answer an original's download with a redirect to a URL signed"
        " for this many seconds (0: serve the bytes through Albumen).",
    )
    mirror_url: str = Field(
        "", description="A second blob store written on every upload (file://); empty: none."
    )
    warm_storage_url: str = Field(
        "", description="Store for originals unread a while (file://); empty: all stay hot."
    )
    cold_storage_url: str = Field(
        "", description="Store for originals unread long (file://); empty: none go cold."
    )
    warm_after_days: float = Field(30, gt=0, description="Unread this long: hot to warm.")
    cold_after_days: float = Field(180, gt=0, description="Unread this long: warm to cold.")
    tier_storage_prices: dict[str, float] = Field(
        {"hot": 0.023, "warm": 0.0125, "cold": 0.004},
        description="Dollars per GB-month stored, per tier (the cost report).",
    )
    tier_retrieval_prices: dict[str, float] = Field(
        {"hot": 0.0, "warm": 0.01, "cold": 0.03},
        description="Dollars per GB read, per tier (the cost report).",
    )
    tier_latency_seconds: dict[str, float] = Field(
        {"hot": 0.01, "warm": 0.1, "cold": 300.0},
        description="Expected wait for a read per tier; a cold read's Retry-After.",
    )
    host: str = Field("127.0.0.1", description="Address `albumen serve` listens on.")
    api_workers: int = Field(
        1, ge=1, description="API processes `albumen serve` runs (each with its own pool)."
    )
    shutdown_grace_seconds: float = Field(
        30, ge=0, description="On SIGTERM, how long requests under way may take to finish."
    )
    port: int = Field(8000, description="Port `albumen serve` listens on.")
    max_upload_bytes: int = Field(2 * 1024**3, description="Largest accepted upload (413 above).")
    max_image_pixels: int = Field(250_000_000, description="Largest decoded image, in pixels.")
    job_workers: int = Field(2, description="Job worker threads inside `albumen serve`.")
    run_workers_in_server: bool = Field(True, description="Run job workers in `albumen serve`.")
    job_retries: int = Field(3, description="Retries of a failed job before it is given up.")
    thumbnail_cache_bytes: int = Field(
        256 * 1024**2, description="In-process byte budget for hot thumbnails."
    )
    prefetch: bool = Field(
        True, description="Warm the cache with what each user will likely open next."
    )
    prefetch_threshold: float = Field(
        0.7, ge=0, le=1, description="Warm only predictions at least this likely."
    )
    cache_optimizer_apply: bool = Field(
        False, description="Apply the cache optimizer's recommendations as they come."
    )
    cache_ttl_seconds: int = Field(
        86400, gt=0, description="How long an entry lives in the Redis cache (L2)."
    )
    sweep_grace_seconds: int = Field(
        3600, description="Age below which an unreferenced blob is never swept."
    )
    upload_expiry_seconds: int = Field(
        86400, description="Unfinished resumable uploads older than this are removed."
    )
    analysis: bool = Field(
        True, description="Find faces, tags and likeness in each photo (models run on the CPU)."
    )
    analysis_threads: int = Field(2, description="Threads each model may use.")
    clip_model_dir: Path | None = Field(
        None, description="A CLIP model exported to ONNX, for search by words (docs/api.md)."
    )
    trash_days: int = Field(30, description="Days a trashed photo is kept before it is deleted.")
    secret_key: str = Field(
        "", description="Signs share-link unlocks; empty means one kept in data_dir/secret.key."
    )
    share_password_attempts: str = Field(
        "5/minute", description="Share-link password tries allowed per link and client."
    )
    sign_in_attempts: str = Field(
        "10 per 15 minutes", description="Sign-in tries allowed per user name and client."
    )
    session_days: int = Field(
        30, ge=1, description="How long a browser stays signed in (the session cookie's life)."
    )
    slow_query_ms: float = Field(
        100, description="Database statements slower than this are logged with their plan."
    )
    alert_webhook_url: str = Field(
        "", description="Where firing and resolved alerts are posted (Alertmanager's format)."
    )
    alert_interval_seconds: float = Field(
        60, description="How often the built-in evaluator checks the alert rules."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_json: bool = Field(False, description="Write logs as JSON lines.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("ALBUMEN_CONFIG_FILE", "albumen.toml")
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_file)
        return (init_settings, env_settings, toml)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'albumen.db').resolve()}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def effective_storage_url(self) -> str:
        return self.storage_url or (self.data_dir / "blobs").resolve().as_uri()

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    def masked(self) -> dict[str, Any]:
        """The settings as a dict, with passwords in URLs replaced by ``***``."""
        shown = self.model_dump(mode="json")
        for key, value in shown.items():
            if key.endswith("_url") and isinstance(value, str):
                shown[key] = mask_url(value)
        if shown["secret_key"]:
            shown["secret_key"] = "***"
        return shown


def mask_url(url: str) -> str:
    """Replace the password of a URL (and secrets in its query) with ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
