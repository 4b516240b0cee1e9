"""users an admin disabled: they cannot sign in or use a key until enabled again

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("disabled_at", sa.DateTime))


def downgrade() -> None:
    op.drop_column("users", "disabled_at")
