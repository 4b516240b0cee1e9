"""the date of the file, for a photo whose contents have none

Photos without a date in them (screenshots, scans, images saved from the web, files whose
EXIF was stripped) piled up on the day they were uploaded (#16). The uploader knows when the
file was last modified (a browser's ``File.lastModified``, a disk's mtime): it is kept with
the photo, and with a tus upload until it finishes, and it dates the photo when its contents
do not.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("photos", "uploads"):
        op.add_column(table, sa.Column("file_modified_local", sa.DateTime))
        op.add_column(table, sa.Column("file_modified_offset_min", sa.Integer))


def downgrade() -> None:
    for table in ("photos", "uploads"):
        op.drop_column(table, "file_modified_offset_min")
        op.drop_column(table, "file_modified_local")
