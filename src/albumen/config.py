"""Settings: one frozen object read from ``ALBUMEN_*`` variables and an optional TOML file.

Settings that can hold a credential are ``Secret``s: the code reads them with ``reveal()``, and
everything else (``config show``, logs, reprs, error messages) sees them masked.

The variables and the file are read here rather than by pydantic-settings, which costs every
command a quarter of a second at start (asyncio, dotenv and cloud secret stores, unused here).
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_origin
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, field_validator
from pydantic_core import CoreSchema, core_schema

PREFIX = "ALBUMEN_"
MASK = "***"
# Query parameters of a URL whose values are credentials (S3, webhooks, Redis, PostgreSQL).
_SECRET_WORDS = (
    "password", "passwd", "pwd", "secret", "token", "key", "signature", "sig", "credential",
    "auth", "session",
)  # fmt: skip


class Secret:
    """A setting that can hold a credential: whole for ``reveal()``, masked everywhere else.

    A URL keeps what is not secret when shown (scheme, user, host, path), so that ``config
    show`` still tells which server is meant; its password and the values of credential-like
    query parameters become ``***``. Any other non-empty value is shown as ``***``.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        if not self._value:
            return ""
        return mask_url(self._value) if "://" in self._value else MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.masked!r})"

    __str__ = __repr__

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from_text = core_schema.no_info_after_validator_function(cls, core_schema.str_schema())
        return core_schema.json_or_python_schema(
            json_schema=from_text,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), from_text]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda s: s.masked),
        )


def mask_url(url: str) -> str:
    """``url`` with its password and the values of credential-like query parameters (``token``,
    ``key``, ``signature``, ``password``, ...) replaced by ``***``."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret_query = any(_secret_name(name) for name, _ in pairs)
    if parts.password is None and not secret_query:
        return url  # as it was: re-assembling can change a URL (sqlite:////abs/path)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{MASK}@{host}"
    query = parts.query
    if secret_query:
        query = urlencode([(k, MASK if _secret_name(k) else v) for k, v in pairs], safe="*:/")
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


class Settings(BaseModel):
    """Every option Albumen reads. Documented field by field in ``docs/configuration.md``.

    ``Settings(...)`` takes its values as given; ``Settings.from_environment()`` reads them
    from ``ALBUMEN_*`` variables over ``albumen.toml`` (or ``ALBUMEN_CONFIG_FILE``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(Path("data"), description="Holds everything of the embedded default.")
    database_url: Secret = Field(
        Secret(""), description="SQLAlchemy URL; empty means SQLite in data_dir."
    )
    database_replica_urls: list[Secret] = Field(
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
    storage_url: Secret = Field(
        Secret(""), description="Blob store URL; empty means file:// data_dir/blobs."
    )
    redis_url: Secret = Field(
        Secret(""),
        description="Redis URL for the job queue and the L2 cache; empty means embedded.",
    )
    presign_originals_seconds: int = Field(
        0,
        ge=0,
        description="With S3: answer an original's download with a redirect to a URL signed"
        " for this many seconds (0: serve the bytes through Albumen).",
    )
    mirror_url: Secret = Field(
        Secret(""),
        description="A second blob store written on every upload (file://); empty: none.",
    )
    warm_storage_url: Secret = Field(
        Secret(""), description="Store for originals unread a while (file://); empty: all stay hot."
    )
    cold_storage_url: Secret = Field(
        Secret(""), description="Store for originals unread long (file://); empty: none go cold."
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
    min_free_mb: int = Field(
        200,
        ge=0,
        description="Below this much free space on the data folder's volume, /readyz answers"
        " 503 disk_space (uploads are refused with 507 once the disk is full).",
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
    secret_key: Secret = Field(
        Secret(""),
        description="Signs share-link unlocks; empty means one kept in data_dir/secret.key.",
    )
    share_password_attempts: str = Field(
        "5/minute", description="Share-link password tries allowed per link and client."
    )
    sign_in_attempts: str = Field(
        "10 per 15 minutes", description="Sign-in tries allowed per user name and client."
    )
    trusted_proxies: str = Field(
        "",
        description="The proxies (addresses or networks, comma-separated: 127.0.0.1,"
        " 10.0.0.0/8) whose X-Forwarded-For and X-Forwarded-Proto are believed; none by"
        " default, so a client cannot pick the address its rate limits count.",
    )
    session_days: int = Field(
        30, ge=1, description="How long a browser stays signed in (the session cookie's life)."
    )
    slow_query_ms: float = Field(
        100, description="Database statements slower than this are logged with their plan."
    )
    alert_webhook_url: Secret = Field(
        Secret(""),
        description="Where firing and resolved alerts are posted (Alertmanager's format).",
    )
    alert_interval_seconds: float = Field(
        60, description="How often the built-in evaluator checks the alert rules."
    )
    map_tiles_url: Secret = Field(
        Secret(""),
        description="An online map's raster tiles (https://.../{z}/{x}/{y}.png) drawn under the"
        " web app's map; empty: the world map that ships with Albumen, offline.",
    )
    map_tiles_attribution: str = Field(
        "", description="The credit the tiles' provider asks for, shown on the map."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_json: bool = Field(False, description="Write logs as JSON lines.")

    @field_validator("map_tiles_url")
    @classmethod
    def _tiles(cls, value: Secret) -> Secret:
        url = value.reveal()
        if url and not (
            url.startswith(("https://", "http://")) and all(p in url for p in ("{z}", "{x}", "{y}"))
        ):
            raise ValueError("a tile URL is http(s)://... with {z}, {x} and {y} in it")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for part in (part.strip() for part in value.split(",")):
            if part:
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError as err:
                    raise ValueError(f"{part!r} is not an address or a network") from err
        return value

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Settings:
        """The settings in force: ``given`` over the ``ALBUMEN_*`` variables over the TOML
        file. A variable of a list or a mapping is JSON (``'["postgresql://..."]'``)."""
        environ = os.environ if environ is None else environ
        values = _toml(Path(environ.get(f"{PREFIX}CONFIG_FILE", "albumen.toml")))
        for name, field in cls.model_fields.items():
            raw = environ.get(f"{PREFIX}{name.upper()}")
            if raw is not None:
                structured = get_origin(field.annotation) in (list, dict)
                values[name] = json.loads(raw) if structured else raw
        return cls.model_validate(values | given)

    @property
    def effective_database_url(self) -> Secret:
        url = self.database_url.reveal()
        return Secret(url or f"sqlite:///{(self.data_dir / 'albumen.db').resolve()}")

    @property
    def effective_storage_url(self) -> Secret:
        url = self.storage_url.reveal()
        return Secret(url or (self.data_dir / "blobs").resolve().as_uri())

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    def masked(self) -> dict[str, Any]:
        """The settings as shown to a person (``config show``): every ``Secret`` masked."""
        shown = self.model_dump(mode="json")
        shown["effective_database_url"] = self.effective_database_url.masked
        shown["effective_storage_url"] = self.effective_storage_url.masked
        return shown


def _toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with path.open("rb") as file:
        return tomllib.load(file)
