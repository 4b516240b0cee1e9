"""damaged blobs: the hashes whose bytes were found not to match, so that none is served as good

After one byte of an original was flipped, ``GET .../original`` answered 200 with the strong
ETag of the true hash and bytes that hash otherwise, even after ``albumen scrub`` had found it
corrupt and unrepairable (#21, item 10). A read that finds the mismatch on its way out, and a
scrub that cannot repair it, note the hash here; the original then answers 410
``original_damaged`` until a scrub finds it whole again (repaired, or restored).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from albumen.adapters.db.bounds import sqlite_guards

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BOUNDS = {"sha256": 64, "found_by": 16}


def upgrade() -> None:
    op.create_table(
        "damaged_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("found_by", sa.String(16), nullable=False),
        sa.Column("found_at", sa.DateTime, nullable=False),
    )
    if op.get_context().dialect.name == "sqlite":
        for statement in sqlite_guards("damaged_blobs", BOUNDS):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("damaged_blobs")
