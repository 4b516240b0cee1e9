"""memories: the memories a user hid, and each day's located photos counted

A memory is found afresh from the library each time (``domain.memories``); what is kept is only
that its owner does not want to see it again, by its key (``trip-2024-05-01-2024-05-06``).

Trips are found from where each day's photos were taken. ``located_days`` keeps, per owner and
local day of capture (as ``timeline_days`` counts the timeline), the located photos of the
timeline (not trashed, not archived): how many and the sums of their positions. Triggers keep
it in step, so finding a year's trips reads a row per day, not every photo of the year.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from albumen.adapters.db.bounds import sqlite_guards

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_COUNTED = "{row}.lat IS NOT NULL AND {row}.deleted_at IS NULL AND NOT {row}.archived"
_MOVES = "lat, lon, sort_at, taken_local, deleted_at, archived, owner_id"


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    op.create_table(
        "hidden_memories",
        sa.Column(
            "owner_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("hidden_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "located_days",
        sa.Column(
            "owner_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("lat_sum", sa.Float, nullable=False),
        sa.Column("lon_sum", sa.Float, nullable=False),
    )
    day = _day(dialect, "p")
    op.execute(
        f"INSERT INTO located_days SELECT p.owner_id, {day}, count(*), sum(p.lat), sum(p.lon)"
        f" FROM photos p WHERE {_COUNTED.format(row='p')} GROUP BY p.owner_id, {day}"
    )
    if dialect == "postgresql":
        for statement in _postgres():
            op.execute(statement)
        return
    for statement in _sqlite():
        op.execute(statement)
    for statement in sqlite_guards("hidden_memories", {"owner_id": 36, "key": 64}):
        op.execute(statement)
    for statement in sqlite_guards("located_days", {"owner_id": 36, "day": 10}):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("0020 is not reversible; restore a backup instead")


def _day(dialect: str, row: str) -> str:
    """A photo's local day of capture, as ``timeline_days`` has it."""
    if dialect == "postgresql":
        return f"timeline_day({row}.taken_local, {row}.sort_at)"
    return f"date(coalesce({row}.taken_local, {row}.sort_at))"


def _sqlite() -> list[str]:
    add = f"""INSERT INTO located_days (owner_id, day, count, lat_sum, lon_sum)
        SELECT NEW.owner_id, {_day("sqlite", "NEW")}, 1, NEW.lat, NEW.lon
        WHERE {_COUNTED.format(row="NEW")}
        ON CONFLICT (owner_id, day) DO UPDATE SET count = count + 1,
            lat_sum = lat_sum + excluded.lat_sum, lon_sum = lon_sum + excluded.lon_sum;"""
    old = f"owner_id = OLD.owner_id AND day = {_day('sqlite', 'OLD')}"
    remove = f"""UPDATE located_days SET count = count - 1, lat_sum = lat_sum - OLD.lat,
            lon_sum = lon_sum - OLD.lon WHERE {_COUNTED.format(row="OLD")} AND {old};
        DELETE FROM located_days WHERE {old} AND count <= 0;"""
    return [
        f"CREATE TRIGGER photos_ai_located AFTER INSERT ON photos BEGIN {add} END",
        f"CREATE TRIGGER photos_ad_located AFTER DELETE ON photos BEGIN {remove} END",
        f"""CREATE TRIGGER photos_au_located AFTER UPDATE OF {_MOVES} ON photos BEGIN
            {remove} {add} END""",
    ]


def _postgres() -> list[str]:
    add = f"""IF {_COUNTED.format(row="NEW")} THEN
        INSERT INTO located_days (owner_id, day, count, lat_sum, lon_sum)
            VALUES (NEW.owner_id, {_day("postgresql", "NEW")}, 1, NEW.lat, NEW.lon)
            ON CONFLICT (owner_id, day) DO UPDATE SET count = located_days.count + 1,
                lat_sum = located_days.lat_sum + EXCLUDED.lat_sum,
                lon_sum = located_days.lon_sum + EXCLUDED.lon_sum;
    END IF;"""
    old = f"owner_id = OLD.owner_id AND day = {_day('postgresql', 'OLD')}"
    remove = f"""IF {_COUNTED.format(row="OLD")} THEN
        UPDATE located_days SET count = count - 1, lat_sum = lat_sum - OLD.lat,
            lon_sum = lon_sum - OLD.lon WHERE {old};
        DELETE FROM located_days WHERE {old} AND count <= 0;
    END IF;"""
    statements = []
    for name, when, body in (
        ("photos_ai_located", "AFTER INSERT", add),
        ("photos_ad_located", "AFTER DELETE", remove),
        ("photos_au_located", f"AFTER UPDATE OF {_MOVES}", remove + add),
    ):
        statements.append(
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {body} RETURN NULL; END $$"""
        )
        statements.append(
            f"CREATE TRIGGER {name} {when} ON photos FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    return statements
