"""the map: each located photo's grid cell, each owner's counts per cell at every scale, and
share links that show a map

A map of a million photos cannot count them on each request. ``photos.map_x`` and ``map_y``
are a photo's cell at the finest level of ``domain.maps`` (written with its position, by the
code, so both worlds agree to the bit). ``map_cells`` keeps, per owner, the photos of the
timeline (not trashed, not archived) of each cell at every other level from 0 to 20: how many,
the sums of their positions (their middle), and the newest (``cover``, a ``doc_id``). Triggers
keep it in step inside each write's own transaction, as they keep the day counts: the finest
level first, so that when a cell's cover leaves, the cover its children still have is the one
it takes (at the finest level, read from the photos through ``ix_photos_map``).

``share_links.show_map``: whether an album's link shows its visitors where the photos were
taken (off unless its owner says so: a share shows no position otherwise).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from albumen.adapters.db.bounds import sqlite_guards

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

FINEST = 20  # domain.maps.FINEST, as it was when this was written
LEVELS = range(FINEST, -1, -2)
_VISIBLE = "deleted_at IS NULL AND NOT archived AND map_x IS NOT NULL"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column(
        "share_links",
        sa.Column("show_map", sa.Boolean, nullable=False, server_default=sa.text("false")),
    )
    op.add_column("photos", sa.Column("map_x", sa.Integer))
    op.add_column("photos", sa.Column("map_y", sa.Integer))
    scale = "1048576"  # 2 ** FINEST
    if dialect == "postgresql":
        op.execute(
            f"UPDATE photos SET map_x = least(floor((lon + 180.0::float8) * {scale}"
            f" / 360.0::float8), {scale} - 1), map_y = least(floor((lat + 90.0::float8)"
            f" * {scale} / 360.0::float8), {scale} / 2 - 1) WHERE lat IS NOT NULL"
        )
    else:
        op.execute(
            f"UPDATE photos SET map_x = min(CAST((lon + 180.0) * {scale} / 360.0 AS INTEGER),"
            f" {scale} - 1), map_y = min(CAST((lat + 90.0) * {scale} / 360.0 AS INTEGER),"
            f" {scale} / 2 - 1) WHERE lat IS NOT NULL"
        )
    op.create_index(
        "ix_photos_map",
        "photos",
        ["owner_id", "map_x", "map_y", "doc_id"],
        sqlite_where=sa.text(_VISIBLE),
        postgresql_where=sa.text(_VISIBLE),
    )
    op.create_table(
        "map_cells",
        sa.Column(
            "owner_id",
            sa.String(36),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("level", sa.Integer, primary_key=True),
        sa.Column("x", sa.Integer, primary_key=True),
        sa.Column("y", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("lat_sum", sa.Float, nullable=False),
        sa.Column("lon_sum", sa.Float, nullable=False),
        sa.Column("cover", sa.BigInteger),
    )
    for level in LEVELS:
        shift = FINEST - level
        op.execute(
            f"INSERT INTO map_cells SELECT owner_id, {level}, map_x >> {shift}, map_y >> {shift},"
            f" count(*), sum(lat), sum(lon), max(doc_id) FROM photos WHERE {_VISIBLE}"
            " GROUP BY owner_id, map_x >> " + str(shift) + ", map_y >> " + str(shift)
        )
    for statement in POSTGRES if dialect == "postgresql" else SQLITE:
        op.execute(statement)
    if dialect == "sqlite":
        for statement in sqlite_guards("map_cells", {"owner_id": 36}):
            op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("0019 is not reversible; restore a backup instead")


def _cell(row: str, level: int) -> str:
    shift = FINEST - level
    return (
        f"owner_id = {row}.owner_id AND level = {level}"
        f" AND x = {row}.map_x >> {shift} AND y = {row}.map_y >> {shift}"
    )


def _new_cover(level: int) -> str:
    """The cover a cell of ``level`` takes when its own leaves (``OLD`` is the photo leaving):
    the newest photo of the cell at the finest level, else the newest of its children's."""
    if level == FINEST:
        return (
            "SELECT max(doc_id) FROM photos WHERE owner_id = OLD.owner_id"
            f" AND map_x = OLD.map_x AND map_y = OLD.map_y AND {_VISIBLE}"
        )
    shift = FINEST - level
    x, y = f"(OLD.map_x >> {shift}) * 4", f"(OLD.map_y >> {shift}) * 4"
    return (
        "SELECT max(c.cover) FROM map_cells c WHERE c.owner_id = OLD.owner_id"
        f" AND c.level = {level + 2} AND c.x BETWEEN {x} AND {x} + 3"
        f" AND c.y BETWEEN {y} AND {y} + 3"
    )


_OLD_COUNTED = "OLD.map_x IS NOT NULL AND OLD.deleted_at IS NULL AND NOT OLD.archived"
_NEW_COUNTED = "NEW.map_x IS NOT NULL AND NEW.deleted_at IS NULL AND NOT NEW.archived"
_LEVELS_SQL = " UNION ALL ".join(f"SELECT {level} AS level" for level in LEVELS)


def _sqlite_remove() -> str:
    statements = []
    for level in LEVELS:
        statements.append(
            f"""UPDATE map_cells SET count = count - 1, lat_sum = lat_sum - OLD.lat,
                lon_sum = lon_sum - OLD.lon,
                cover = CASE WHEN cover = OLD.doc_id THEN ({_new_cover(level)}) ELSE cover END
            WHERE {_OLD_COUNTED} AND {_cell("OLD", level)};"""
        )
        statements.append(
            f"DELETE FROM map_cells WHERE {_OLD_COUNTED} AND {_cell('OLD', level)} AND count <= 0;"
        )
    return "\n".join(statements)


_SQLITE_ADD = f"""INSERT INTO map_cells (owner_id, level, x, y, count, lat_sum, lon_sum, cover)
    SELECT NEW.owner_id, l.level, NEW.map_x >> ({FINEST} - l.level),
        NEW.map_y >> ({FINEST} - l.level), 1, NEW.lat, NEW.lon, NEW.doc_id
    FROM ({_LEVELS_SQL}) AS l WHERE {_NEW_COUNTED}
    ON CONFLICT (owner_id, level, x, y) DO UPDATE SET count = count + 1,
        lat_sum = lat_sum + excluded.lat_sum, lon_sum = lon_sum + excluded.lon_sum,
        cover = max(coalesce(cover, excluded.cover), excluded.cover);"""

_MOVES = "map_x, map_y, lat, lon, deleted_at, archived, doc_id, owner_id"

SQLITE = [
    f"CREATE TRIGGER photos_ai_map AFTER INSERT ON photos BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER photos_ad_map AFTER DELETE ON photos BEGIN {_sqlite_remove()} END",
    f"""CREATE TRIGGER photos_au_map AFTER UPDATE OF {_MOVES} ON photos BEGIN
        {_sqlite_remove()}
        {_SQLITE_ADD}
    END""",
]


def _pg_cell(row: str) -> str:
    return (
        f"owner_id = {row}.owner_id AND level = lv"
        f" AND x = {row}.map_x >> ({FINEST} - lv) AND y = {row}.map_y >> ({FINEST} - lv)"
    )


_PG_REMOVE = f"""
    IF {_OLD_COUNTED} THEN
        FOR lv IN REVERSE {FINEST}..0 BY 2 LOOP
            UPDATE map_cells SET count = count - 1, lat_sum = lat_sum - OLD.lat,
                lon_sum = lon_sum - OLD.lon,
                cover = CASE WHEN cover <> OLD.doc_id THEN cover
                    WHEN lv = {FINEST} THEN (SELECT max(p.doc_id) FROM photos p
                        WHERE p.owner_id = OLD.owner_id AND p.map_x = OLD.map_x
                        AND p.map_y = OLD.map_y AND p.deleted_at IS NULL AND NOT p.archived
                        AND p.map_x IS NOT NULL)
                    ELSE (SELECT max(c.cover) FROM map_cells c
                        WHERE c.owner_id = OLD.owner_id AND c.level = lv + 2
                        AND c.x BETWEEN (OLD.map_x >> ({FINEST} - lv)) * 4
                            AND (OLD.map_x >> ({FINEST} - lv)) * 4 + 3
                        AND c.y BETWEEN (OLD.map_y >> ({FINEST} - lv)) * 4
                            AND (OLD.map_y >> ({FINEST} - lv)) * 4 + 3) END
                WHERE {_pg_cell("OLD")};
            DELETE FROM map_cells WHERE {_pg_cell("OLD")} AND count <= 0;
        END LOOP;
    END IF;"""
_PG_ADD = f"""
    IF {_NEW_COUNTED} THEN
        FOR lv IN REVERSE {FINEST}..0 BY 2 LOOP
            INSERT INTO map_cells (owner_id, level, x, y, count, lat_sum, lon_sum, cover)
                VALUES (NEW.owner_id, lv, NEW.map_x >> ({FINEST} - lv),
                    NEW.map_y >> ({FINEST} - lv), 1, NEW.lat, NEW.lon, NEW.doc_id)
                ON CONFLICT (owner_id, level, x, y) DO UPDATE SET
                    count = map_cells.count + 1,
                    lat_sum = map_cells.lat_sum + EXCLUDED.lat_sum,
                    lon_sum = map_cells.lon_sum + EXCLUDED.lon_sum,
                    cover = greatest(map_cells.cover, EXCLUDED.cover);
        END LOOP;
    END IF;"""


def _pg_trigger(name: str, when: str, body: str) -> list[str]:
    return [
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE lv integer;
        BEGIN {body} RETURN NULL; END $$""",
        f"CREATE TRIGGER {name} {when} ON photos FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


POSTGRES = [
    *_pg_trigger("photos_ai_map", "AFTER INSERT", _PG_ADD),
    *_pg_trigger("photos_ad_map", "AFTER DELETE", _PG_REMOVE),
    *_pg_trigger("photos_au_map", f"AFTER UPDATE OF {_MOVES}", _PG_REMOVE + _PG_ADD),
]
