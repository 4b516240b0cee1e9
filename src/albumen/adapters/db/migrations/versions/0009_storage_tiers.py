"""storage tiers: which tier each original is in, when it was last read, retrievals

``blob_tiers`` has a row per original blob (shared by every photo with those bytes): its tier,
its last read (its upload at first), and a move in progress (``moving_to``), so that a move
cut short resumes. ``tier_retrievals`` counts reads from the paid tiers per owner and month,
for the cost report. Every existing original starts hot, last read when first uploaded.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_tiers",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.Column("moving_to", sa.String(8)),
        sa.Column("moved_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("sha256", name="pk_blob_tiers"),
    )
    op.create_index("ix_blob_tiers_lifecycle", "blob_tiers", ["tier", "read_at"])
    op.create_index(
        "ix_blob_tiers_moving",
        "blob_tiers",
        ["moving_to"],
        sqlite_where=sa.text("moving_to IS NOT NULL"),
        postgresql_where=sa.text("moving_to IS NOT NULL"),
    )
    op.create_table(
        "tier_retrievals",
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_tier_retrievals_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("owner_id", "tier", "month", name="pk_tier_retrievals"),
    )
    op.execute(
        "INSERT INTO blob_tiers (sha256, tier, read_at)"
        " SELECT sha256, 'hot', min(created_at) FROM photos GROUP BY sha256"
    )


def downgrade() -> None:
    op.drop_table("tier_retrievals")
    op.drop_index("ix_blob_tiers_moving", table_name="blob_tiers")
    op.drop_index("ix_blob_tiers_lifecycle", table_name="blob_tiers")
    op.drop_table("blob_tiers")
