"""The schema. Alembic migrations in ``migrations/versions`` create and evolve it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text),
    Column("created_at", DateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(200), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

photos = Table(
    "photos",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("mime", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("sort_at", DateTime, nullable=False),
    Column("deleted_at", DateTime),
    Column("favorite", Boolean, nullable=False, server_default=text("false")),
    Column("description", Text),
    Column("thumbhash", String(64)),
    Column("width", Integer),
    Column("height", Integer),
    Column("orientation", Integer),
    Column("taken_local", DateTime),
    Column("taken_offset_min", Integer),
    Column("taken_utc", DateTime),
    Column("taken_source", String(64)),
    Column("lat", Float),
    Column("lon", Float),
    Column("alt", Float),
    Column("make", String(200)),
    Column("model", String(200)),
    Column("lens", String(200)),
    Column("iso", Integer),
    Column("f_number", Float),
    Column("exposure_time", Float),
    Column("focal_length", Float),
    UniqueConstraint("owner_id", "sha256", name="uq_photos_owner_sha256"),
    Index(
        "ix_photos_timeline",
        "owner_id",
        text("sort_at DESC"),
        text("id DESC"),
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
    Index("ix_photos_uploaded", "owner_id", text("created_at DESC")),
    Index(
        "ix_photos_work",
        "status",
        "created_at",
        sqlite_where=text("status IN ('pending', 'processing')"),
        postgresql_where=text("status IN ('pending', 'processing')"),
    ),
    Index("ix_photos_sha256", "sha256"),
)

derivatives = Table(
    "derivatives",
    metadata,
    Column(
        "photo_id",
        String(36),
        ForeignKey("photos.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("size", String(16), primary_key=True),
    Column("format", String(8), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Index("ix_derivatives_sha256", "sha256"),
)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("photo_id", String(36)),
    Index("ix_uploads_created_at", "created_at"),
)
