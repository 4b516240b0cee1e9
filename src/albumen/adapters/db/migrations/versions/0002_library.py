"""library: albums, sharing, tags, places, archive, timeline keys and day counts

Revision ID: 0002
Revises: 0001

The search index over these tables (and the triggers that fill the day counts) is 0004.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EPOCH = datetime(1970, 1, 1)


def upgrade() -> None:
    _tables()
    _photo_columns()


def _tables() -> None:
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=200), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("country_code", "region", "city", name="uq_places_name"),
    )
    op.create_table(
        "photo_tags",
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        # 16 until PostgreSQL, which holds to it: model names are longer (SQLite ignores it).
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_photo_tags_photo_id_photos", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("photo_id", "tag", name="pk_photo_tags"),
    )
    op.create_index("ix_photo_tags_tag", "photo_tags", ["tag"])
    op.create_table(
        "albums",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("cover_photo_id", sa.String(length=36), nullable=True),
        sa.Column("sort_order", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_albums_owner_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["albums.id"], name="fk_albums_parent_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cover_photo_id"],
            ["photos.id"],
            name="fk_albums_cover_photo_id_photos",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_albums"),
    )
    op.create_index("ix_albums_owner", "albums", ["owner_id", "name"])
    op.create_index("ix_albums_parent", "albums", ["parent_id"])
    op.create_table(
        "album_photos",
        sa.Column("album_id", sa.String(length=36), nullable=False),
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("added_by", sa.String(length=36), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_album_photos_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_album_photos_photo_id_photos", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name="fk_album_photos_added_by_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("album_id", "photo_id", name="pk_album_photos"),
    )
    op.create_index("ix_album_photos_photo", "album_photos", ["photo_id"])
    op.create_index("ix_album_photos_order", "album_photos", ["album_id", "position"])
    op.create_table(
        "album_members",
        sa.Column("album_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_album_members_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_album_members_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("album_id", "user_id", name="pk_album_members"),
    )
    op.create_index("ix_album_members_user", "album_members", ["user_id"])
    op.create_table(
        "share_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("album_id", sa.String(length=36), nullable=True),
        sa.Column("photo_id", sa.String(length=36), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("allow_download", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_share_links_owner_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_share_links_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_share_links_photo_id_photos", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_share_links"),
        sa.UniqueConstraint("token_hash", name="uq_share_links_token_hash"),
    )
    op.create_index("ix_share_links_owner", "share_links", ["owner_id", "created_at"])
    op.create_table(
        "timeline_days",
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_timeline_days_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("owner_id", "day", name="pk_timeline_days"),
    )


def _photo_columns() -> None:
    op.drop_index("ix_photos_timeline", "photos")
    with op.batch_alter_table("photos") as batch_op:
        batch_op.add_column(sa.Column("doc_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("archived", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("place_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_photos_place_id_places", "places", ["place_id"], ["id"])
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, sort_at FROM photos")).all()
    used: set[int] = set()
    for photo_id, sort_at in rows:
        stamp = sort_at if isinstance(sort_at, datetime) else datetime.fromisoformat(sort_at)
        key = _sort_key(stamp, used)
        conn.execute(
            sa.text("UPDATE photos SET doc_id = :k WHERE id = :i"), {"k": key, "i": photo_id}
        )
    with op.batch_alter_table("photos") as batch_op:
        batch_op.alter_column("doc_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint("uq_photos_doc_id", ["doc_id"])
    op.create_index(
        "ix_photos_timeline",
        "photos",
        ["owner_id", sa.text("doc_id DESC")],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    for flag in ("favorite", "archived"):
        op.create_index(
            f"ix_photos_{flag}",
            "photos",
            ["owner_id", sa.text("doc_id DESC")],
            sqlite_where=sa.text(f"deleted_at IS NULL AND {flag}"),
            postgresql_where=sa.text(f"deleted_at IS NULL AND {flag}"),
        )
    op.create_index(
        "ix_photos_mime",
        "photos",
        ["owner_id", "mime", sa.text("doc_id DESC")],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_photos_trash",
        "photos",
        ["owner_id", "deleted_at"],
        sqlite_where=sa.text("deleted_at IS NOT NULL"),
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )


def _sort_key(sort_at: datetime, used: set[int]) -> int:
    """As ``albumen.domain.photos.sort_key`` at this revision (a migration never imports code
    that may change later)."""
    ms = (sort_at - EPOCH) // timedelta(milliseconds=1)
    while True:
        key = ms << 10 | random.randrange(1024)
        if key not in used:
            used.add(key)
            return key


def downgrade() -> None:
    raise NotImplementedError("0002 is not reversible; restore a backup instead")
