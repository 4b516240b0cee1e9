"""PostgreSQL's own indexes: places (GiST), recent text, album and people names (trigrams)

The hot paths that SQLite serves with an R*Tree, FTS5's row order and its case-blind ``LIKE``
get their PostgreSQL indexes here, built ``CONCURRENTLY`` so that a live library keeps taking
uploads while they build: a GiST index on each photo's ``point(lon, lat)`` for place
searches, an owner's search documents in date order (a common word's newest matches are read
from there), and pg_trgm GIN indexes on album and people names for the suggestions'
``ILIKE '% word%'``.
Nothing changes on SQLite.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_photos_place": "photos USING gist (point(lon, lat)) WHERE lat IS NOT NULL",
    "ix_photo_search_recent": "photo_search (owner_id, doc_id)",
    "ix_albums_name_trigrams": "albums USING gin (name gin_trgm_ops)",
    "ix_people_name_trigrams": "people USING gin (name gin_trgm_ops)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():  # CONCURRENTLY cannot run in a transaction
        for name, definition in INDEXES.items():
            # An earlier build cut short leaves an invalid index of that name: start again.
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.execute(f"CREATE INDEX CONCURRENTLY {name} ON {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
