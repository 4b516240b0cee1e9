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
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from albumen.domain import limits

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
    Column("name", String(limits.NAME), nullable=False, unique=True),
    Column("password_hash", Text),
    Column("created_at", DateTime, nullable=False),
    Column("is_admin", Boolean, nullable=False, server_default=text("false")),
    Column("disabled_at", DateTime),  # an admin disabled the account (migration 0021)
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(limits.NAME), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("secret_hash", String(64), primary_key=True),
    Column(
        "user_id",
        String(36),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

places = Table(
    "places",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("city", String(limits.NAME), nullable=False),
    Column("region", String(limits.NAME), nullable=False),
    Column("country", String(limits.NAME), nullable=False),
    Column("country_code", String(2), nullable=False),
    UniqueConstraint("country_code", "region", "city", name="uq_places_name"),
)

photos = Table(
    "photos",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("filename", String(limits.FILENAME_BYTES), nullable=False),
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
    Column("taken_source", String(limits.DATE_SOURCE)),
    # the file's last modification, as its uploader saw it: the date of a photo without one
    Column("file_modified_local", DateTime),
    Column("file_modified_offset_min", Integer),
    Column("lat", Float),
    Column("lon", Float),
    Column("alt", Float),
    # the position's cell at the finest level of the map's grid (``domain.maps.grid_cell``)
    Column("map_x", Integer),
    Column("map_y", Integer),
    Column("make", String(limits.CAMERA_TEXT)),
    Column("model", String(limits.CAMERA_TEXT)),
    Column("lens", String(limits.CAMERA_TEXT)),
    Column("iso", Integer),
    Column("f_number", Float),
    Column("exposure_time", Float),
    Column("focal_length", Float),
    # The order of the timeline as one unique integer (see ``domain.photos.sort_key``); it is
    # also the photo's row id in the search index, so text search walks in date order.
    Column("doc_id", BigInteger, nullable=False),
    Column("archived", Boolean, nullable=False, server_default=text("false")),
    Column("place_id", Integer, ForeignKey("places.id")),
    Column("analysis_version", String(limits.WORKER)),
    Column("analysis_error", Text),
    Column("claimed_at", DateTime),  # when a worker took it for processing (its lease)
    Column("claimed_by", String(limits.WORKER)),  # which worker: host:pid:start
    UniqueConstraint("owner_id", "sha256", name="uq_photos_owner_sha256"),
    UniqueConstraint("doc_id", name="uq_photos_doc_id"),
    Index(
        "ix_photos_timeline",
        "owner_id",
        text("doc_id DESC"),
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
    # Filters that pick a few photos walk their own index in timeline order, not every photo.
    Index(
        "ix_photos_favorite",
        "owner_id",
        text("doc_id DESC"),
        sqlite_where=text("deleted_at IS NULL AND favorite"),
        postgresql_where=text("deleted_at IS NULL AND favorite"),
    ),
    Index(
        "ix_photos_archived",
        "owner_id",
        text("doc_id DESC"),
        sqlite_where=text("deleted_at IS NULL AND archived"),
        postgresql_where=text("deleted_at IS NULL AND archived"),
    ),
    Index(
        "ix_photos_mime",
        "owner_id",
        "mime",
        text("doc_id DESC"),
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
    Index(
        "ix_photos_trash",
        "owner_id",
        "deleted_at",
        sqlite_where=text("deleted_at IS NOT NULL"),
        postgresql_where=text("deleted_at IS NOT NULL"),
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
    # a map cell's newest photo, when the one its counts named leaves (migration 0019)
    Index(
        "ix_photos_map",
        "owner_id",
        "map_x",
        "map_y",
        "doc_id",
        sqlite_where=text("deleted_at IS NULL AND NOT archived AND map_x IS NOT NULL"),
        postgresql_where=text("deleted_at IS NULL AND NOT archived AND map_x IS NOT NULL"),
    ),
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
    Column("filename", String(limits.FILENAME_BYTES), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("photo_id", String(36)),
    Column("writer", String(limits.UPLOAD_WRITER)),  # the request writing now, and its process
    Column("writer_until", DateTime),  # when that claim lapses unless renewed
    Column("file_modified_local", DateTime),  # for the photo it becomes (see photos)
    Column("file_modified_offset_min", Integer),
    Index("ix_uploads_created_at", "created_at"),
)

damaged_blobs = Table(  # blobs found not to match their hash: never served as good
    "damaged_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("found_by", String(16), nullable=False),  # "read" or "scrub"
    Column("found_at", DateTime, nullable=False),
)

photo_tags = Table(
    "photo_tags",
    metadata,
    Column("photo_id", String(36), ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(limits.TAG), primary_key=True),
    Column("source", String(64), nullable=False),  # "user", or the model that saw it
    Column("confidence", Float),
    Index("ix_photo_tags_tag", "tag"),
)

albums = Table(
    "albums",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", String(36), ForeignKey("albums.id", ondelete="CASCADE")),
    Column("name", String(limits.NAME), nullable=False),
    Column("description", Text),
    Column("cover_photo_id", String(36), ForeignKey("photos.id", ondelete="SET NULL")),
    Column("sort_order", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # photos in the album and not in the trash, kept by triggers (migration 0006)
    Column("photo_count", Integer, nullable=False, server_default=text("0")),
    Index("ix_albums_owner", "owner_id", "name"),
    Index("ix_albums_parent", "parent_id"),
)

album_photos = Table(
    "album_photos",
    metadata,
    Column("album_id", String(36), ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_id", String(36), ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Float, nullable=False),  # the manual order
    Column("added_by", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("added_at", DateTime, nullable=False),
    Index("ix_album_photos_photo", "photo_id"),
    Index("ix_album_photos_order", "album_id", "position"),
)

album_members = Table(
    "album_members",
    metadata,
    Column("album_id", String(36), ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("added_at", DateTime, nullable=False),
    Index("ix_album_members_user", "user_id"),
)

share_links = Table(
    "share_links",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("album_id", String(36), ForeignKey("albums.id", ondelete="CASCADE")),
    Column("photo_id", String(36), ForeignKey("photos.id", ondelete="CASCADE")),
    Column("password_hash", Text),
    Column("allow_download", Boolean, nullable=False),
    # whether visitors see where the photos were taken, on a map (migration 0019)
    Column("show_map", Boolean, nullable=False, server_default=text("false")),
    Column("expires_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Index("ix_share_links_owner", "owner_id", "created_at"),
)

# Day-by-day counts of each owner's timeline (not trashed, not archived), kept by triggers.
timeline_days = Table(
    "timeline_days",
    metadata,
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("count", Integer, nullable=False),
)

# Each owner's timeline photos counted per cell of the map's grid at every stored level (see
# ``domain.maps``), with the sums of their positions and the newest (``cover``, a ``doc_id``).
# Kept by triggers (migration 0019).
map_cells = Table(
    "map_cells",
    metadata,
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("x", Integer, primary_key=True),
    Column("y", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("lat_sum", Float, nullable=False),
    Column("lon_sum", Float, nullable=False),
    Column("cover", BigInteger),
)

# The memories (``domain.memories``) each user hid; the memories themselves are found afresh.
hidden_memories = Table(
    "hidden_memories",
    metadata,
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("hidden_at", DateTime, nullable=False),
)

# Each owner's located timeline photos per local day of capture (how many, the sums of their
# positions): where each day was spent, for finding trips. Kept by triggers (migration 0020).
located_days = Table(
    "located_days",
    metadata,
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("lat_sum", Float, nullable=False),
    Column("lon_sum", Float, nullable=False),
)

people = Table(
    "people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(limits.NAME)),
    Column("cover_face_id", String(36)),
    Column("hidden", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime, nullable=False),
    Index("ix_people_owner", "owner_id", "name"),
)

faces = Table(
    "faces",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("photo_id", String(36), ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", String(36), ForeignKey("people.id", ondelete="SET NULL")),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("width", Float, nullable=False),
    Column("height", Float, nullable=False),
    Column("landmarks", Text, nullable=False),  # JSON [[x, y], ...] as fractions
    Column("score", Float, nullable=False),
    Column("embedding", LargeBinary, nullable=False),  # float32, unit length
    Column("crop_sha256", String(64)),
    # The user put this face in its person: regrouping never moves it.
    Column("pinned", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime, nullable=False),
    Index("ix_faces_photo", "photo_id"),
    Index("ix_faces_person", "owner_id", "person_id"),
    Index("ix_faces_crop", "crop_sha256"),
)

# A photo's likeness. ``key`` only grows: vector indexes catch up by reading keys past the last
# they hold, and a re-analysed photo comes back under a new key.
photo_embeddings = Table(
    "photo_embeddings",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("photo_id", String(36), ForeignKey("photos.id", ondelete="CASCADE"), nullable=False),
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("space", String(16), nullable=False),  # "likeness", or "clip" (text and images)
    Column("model", String(120), nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32, unit length
    Column("phash", BigInteger),  # 64-bit perceptual hash of the preview
    UniqueConstraint("photo_id", "space", name="uq_photo_embeddings_photo_id"),
    Index("ix_photo_embeddings_owner", "owner_id", "space", "key"),
)

# Photos, albums and users changed since their metadata sidecar was written (migration 0008's
# triggers note them; the sidecar job clears what it wrote).
sidecar_outbox = Table(
    "sidecar_outbox",
    metadata,
    Column("kind", String(8), primary_key=True),  # "photo", "album", "user"
    Column("id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),  # bumped by each change
)

# The storage tier of each original blob, its last read, and a move in progress (0009).
blob_tiers = Table(
    "blob_tiers",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("tier", String(8), nullable=False),  # hot, warm, cold
    Column("read_at", DateTime, nullable=False),  # last read of the original, or its upload
    Column("moving_to", String(8)),  # a move begun and not yet finished
    Column("moved_at", DateTime),
    Index("ix_blob_tiers_lifecycle", "tier", "read_at"),
    Index(
        "ix_blob_tiers_moving",
        "moving_to",
        sqlite_where=text("moving_to IS NOT NULL"),
        postgresql_where=text("moving_to IS NOT NULL"),
    ),
)

# Reads of originals from the paid tiers, per owner and month, for the cost report.
tier_retrievals = Table(
    "tier_retrievals",
    metadata,
    Column("owner_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("tier", String(8), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM
    Column("reads", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
)

# The instance's own secrets (0013), made once and shared by every process of a deployment.
instance_secrets = Table(
    "instance_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)
