"""bounded text: every declared length holds in both worlds; dates' sources get 200 characters

PostgreSQL refused a photo whose date source named the time zone at its GPS position ("...;
offset of Pacific/Fiji at the GPS position", 68 characters, in a ``VARCHAR(64)``), and the photo
ended failed; SQLite, which ignores declared lengths, kept it. ``photos.taken_source`` now holds
200 characters (on PostgreSQL a wider ``VARCHAR`` rewrites nothing), and on SQLite each bounded
column is guarded by triggers that refuse what PostgreSQL refuses (``adapters.db.bounds``).
Values an older version stored too long in SQLite are cut to their bound first.

The bounds are written out here as they stand at this revision; a later migration that adds a
bounded column makes its table's guards again.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from albumen.adapters.db.bounds import sqlite_clip, sqlite_guards

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BOUNDS: dict[str, dict[str, int]] = {
    "users": {"id": 36, "name": 200},
    "api_keys": {"key_hash": 64, "user_id": 36, "label": 200},
    "web_sessions": {"secret_hash": 64, "user_id": 36, "csrf_token": 64},
    "places": {"city": 200, "region": 200, "country": 200, "country_code": 2},
    "photos": {
        "id": 36,
        "owner_id": 36,
        "filename": 255,
        "mime": 64,
        "sha256": 64,
        "status": 16,
        "thumbhash": 64,
        "taken_source": 200,
        "make": 200,
        "model": 200,
        "lens": 200,
        "analysis_version": 120,
        "claimed_by": 120,
    },
    "derivatives": {"photo_id": 36, "size": 16, "format": 8, "sha256": 64},
    "uploads": {"id": 36, "owner_id": 36, "filename": 255, "photo_id": 36},
    "photo_tags": {"photo_id": 36, "tag": 100, "source": 64},
    "albums": {
        "id": 36,
        "owner_id": 36,
        "parent_id": 36,
        "name": 200,
        "cover_photo_id": 36,
        "sort_order": 16,
    },
    "album_photos": {"album_id": 36, "photo_id": 36, "added_by": 36},
    "album_members": {"album_id": 36, "user_id": 36, "role": 16},
    "share_links": {"id": 36, "token_hash": 64, "owner_id": 36, "album_id": 36, "photo_id": 36},
    "timeline_days": {"owner_id": 36, "day": 10},
    "people": {"id": 36, "owner_id": 36, "name": 200, "cover_face_id": 36},
    "faces": {"id": 36, "photo_id": 36, "owner_id": 36, "person_id": 36, "crop_sha256": 64},
    "photo_embeddings": {"photo_id": 36, "owner_id": 36, "space": 16, "model": 120},
    "sidecar_outbox": {"kind": 8, "id": 36},
    "blob_tiers": {"sha256": 64, "tier": 8, "moving_to": 8},
    "tier_retrievals": {"owner_id": 36, "tier": 8, "month": 7},
    "instance_secrets": {"name": 64},
}


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.alter_column("photos", "taken_source", type_=sa.String(200), existing_type=sa.String(64))
        return
    for table, bounds in BOUNDS.items():
        op.execute(sqlite_clip(table, bounds))
        for statement in sqlite_guards(table, bounds):
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.execute("UPDATE photos SET taken_source = substr(taken_source, 1, 64)")
        op.alter_column("photos", "taken_source", type_=sa.String(64), existing_type=sa.String(200))
        return
    for table in BOUNDS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bounds_insert")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bounds_update")
