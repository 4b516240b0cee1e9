"""tus uploads have one writer at a time: the request holding the lease, named with its process

Two PATCH requests to one upload could both pass the offset check and stream into the same
partial file; one run lost the upload (#21, item 3). A PATCH now claims the upload first:
``writer`` names the request and its process (``token host:pid:start``) and ``writer_until``
when the claim lapses unless renewed. A claim of a process that has ended is taken over at
once (a restart does not leave the upload busy for the lease's length).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from albumen.adapters.db.bounds import sqlite_guards

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# the uploads table's bounds at this revision (0014's, and the new column's)
BOUNDS = {"id": 36, "owner_id": 36, "filename": 255, "photo_id": 36, "writer": 160}


def upgrade() -> None:
    op.add_column("uploads", sa.Column("writer", sa.String(160)))
    op.add_column("uploads", sa.Column("writer_until", sa.DateTime))
    if op.get_context().dialect.name == "sqlite":
        for statement in sqlite_guards("uploads", BOUNDS):
            op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("0016 is not reversible; restore a backup instead")
