"""processing claims: which worker took each photo and when, so that only one processes it

``photos.claimed_at`` and ``claimed_by`` (host, process id and start time) are set when a
worker claims a photo for processing. Another worker may take it only once that claim is older
than the lease, or once its worker is known to be gone (a process of this host that no longer
runs), so two copies of the same job, from a restart's recovery or a retry, never process a
photo twice at once. Plain added columns: no table is rebuilt.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("photos", sa.Column("claimed_at", sa.DateTime(), nullable=True))
    op.add_column("photos", sa.Column("claimed_by", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photos") as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("claimed_at")
