"""instance secrets: the key that signs share-link unlocks, kept in the database

Every API process of a deployment reads the same key from here, so an unlock or a signed URL
made by one is good at any other; the key also travels with the library (backups,
``albumen migrate-to``). A key kept in the data dir before (``secret.key``) is taken in by the
first process that starts.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_instance_secrets"),
    )


def downgrade() -> None:
    op.drop_table("instance_secrets")
