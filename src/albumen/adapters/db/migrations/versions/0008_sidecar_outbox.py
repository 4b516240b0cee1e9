"""sidecar outbox: what changed since its metadata sidecar was last written

Triggers note every change to a photo (its row, thumbnails, tags), an album (its row, photos,
members) or a user (its row, API keys) in ``sidecar_outbox``; a job writes the sidecars and
clears the rows it wrote, unless they changed again meanwhile (``version``). Existing rows are
all noted once, so every photo gets its sidecar.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, kind of sidecar, the column naming it)
WATCHED = [
    ("photos", "photo", "id"),
    ("derivatives", "photo", "photo_id"),
    ("photo_tags", "photo", "photo_id"),
    ("albums", "album", "id"),
    ("album_photos", "album", "album_id"),
    ("album_members", "album", "album_id"),
    ("users", "user", "id"),
    ("api_keys", "user", "user_id"),
]
_NOTE = (
    "INSERT INTO sidecar_outbox (kind, id, version) VALUES ('{kind}', {row}.{column}, 1)"
    " ON CONFLICT (kind, id) DO UPDATE SET version = sidecar_outbox.version + 1;"
)


def _triggers(postgres: bool = False) -> list[tuple[str, str]]:
    """(name, DDL) of each trigger; on PostgreSQL the DDL also makes its function."""
    made = []
    for table, kind, column in WATCHED:
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            name = f"{table}_sidecar_{event.lower()}"
            note = _NOTE.format(kind=kind, row=row, column=column)
            if postgres:
                made.append(
                    (
                        name,
                        f"""CREATE FUNCTION {name}() RETURNS trigger
                    LANGUAGE plpgsql AS $$ BEGIN {note} RETURN NULL; END $$;
                    CREATE TRIGGER {name} AFTER {event} ON {table}
                    FOR EACH ROW EXECUTE FUNCTION {name}()""",
                    )
                )
            else:
                made.append(
                    (name, f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {note} END")
                )
    return made


def upgrade() -> None:
    op.create_table(
        "sidecar_outbox",
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "id", name="pk_sidecar_outbox"),
    )
    for _name, statement in _triggers(op.get_bind().dialect.name == "postgresql"):
        op.execute(statement)
    for table, kind in (("photos", "photo"), ("albums", "album"), ("users", "user")):
        op.execute(
            f"INSERT INTO sidecar_outbox (kind, id, version) SELECT '{kind}', id, 1 FROM {table}"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, _kind, _column in WATCHED:
        for event in ("insert", "update", "delete"):
            name = f"{table}_sidecar_{event}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
            if postgres:
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("sidecar_outbox")
