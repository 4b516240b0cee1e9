"""admins: users who may see the operations pages (metrics, dashboard, alerts, slow queries)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch operation would rebuild ``users``, for nothing.
    op.add_column(
        "users",
        sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    # Until now every instance was run by whoever made its first user.
    op.execute(
        "UPDATE users SET is_admin = true"
        " WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("is_admin")
