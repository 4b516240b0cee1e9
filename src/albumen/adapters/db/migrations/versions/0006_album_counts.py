"""album counts: each album keeps how many of its photos are not in the trash

Listing albums counted them with a join of every album photo to its photo, at each call:
half a second for a million photos in albums (see docs/operations.md). Triggers keep the
count instead, on every change that moves it: a photo added to or removed from an album,
trashed or restored, or deleted while not in the trash (its owner deleted).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_LIVE = "SELECT 1 FROM photos WHERE id = {photo} AND deleted_at IS NULL"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER album_photos_ai_count AFTER INSERT ON album_photos
        WHEN EXISTS ({_LIVE.format(photo="NEW.photo_id")}) BEGIN
        UPDATE albums SET photo_count = photo_count + 1 WHERE id = NEW.album_id;
    END""",
    f"""CREATE TRIGGER album_photos_ad_count AFTER DELETE ON album_photos
        WHEN EXISTS ({_LIVE.format(photo="OLD.photo_id")}) BEGIN
        UPDATE albums SET photo_count = photo_count - 1 WHERE id = OLD.album_id;
    END""",
    """CREATE TRIGGER photos_au_count AFTER UPDATE OF deleted_at ON photos
        WHEN (OLD.deleted_at IS NULL) != (NEW.deleted_at IS NULL) BEGIN
        UPDATE albums SET photo_count = photo_count
            + CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END
        WHERE id IN (SELECT album_id FROM album_photos WHERE photo_id = NEW.id);
    END""",
    # A photo deleted outside the trash (its owner is deleted): its album rows go by cascade
    # after the photo row, when album_photos_ad_count can no longer see it, so count it here.
    """CREATE TRIGGER photos_bd_count BEFORE DELETE ON photos
        WHEN OLD.deleted_at IS NULL BEGIN
        UPDATE albums SET photo_count = photo_count - 1
        WHERE id IN (SELECT album_id FROM album_photos WHERE photo_id = OLD.id);
    END""",
]


_PG_COUNT = """CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {body} RETURN NULL; END $$;
    CREATE TRIGGER {name} {when} FOR EACH ROW {condition} EXECUTE FUNCTION {name}()"""
POSTGRES_TRIGGERS = [
    _PG_COUNT.format(
        name="album_photos_ai_count",
        when="AFTER INSERT ON album_photos",
        condition="",
        body=f"""IF EXISTS ({_LIVE.format(photo="NEW.photo_id")}) THEN
            UPDATE albums SET photo_count = photo_count + 1 WHERE id = NEW.album_id;
        END IF;""",
    ),
    _PG_COUNT.format(
        name="album_photos_ad_count",
        when="AFTER DELETE ON album_photos",
        condition="",
        body=f"""IF EXISTS ({_LIVE.format(photo="OLD.photo_id")}) THEN
            UPDATE albums SET photo_count = photo_count - 1 WHERE id = OLD.album_id;
        END IF;""",
    ),
    _PG_COUNT.format(
        name="photos_au_count",
        when="AFTER UPDATE OF deleted_at ON photos",
        condition="WHEN ((OLD.deleted_at IS NULL) != (NEW.deleted_at IS NULL))",
        body="""UPDATE albums SET photo_count = photo_count
            + CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END
            WHERE id IN (SELECT album_id FROM album_photos WHERE photo_id = NEW.id);""",
    ),
    _PG_COUNT.format(
        name="photos_bd_count",
        when="BEFORE DELETE ON photos",
        condition="WHEN (OLD.deleted_at IS NULL)",
        body="""UPDATE albums SET photo_count = photo_count - 1
            WHERE id IN (SELECT album_id FROM album_photos WHERE photo_id = OLD.id);
            RETURN OLD;""",
    ),
]


def upgrade() -> None:
    op.add_column(
        "albums",
        sa.Column("photo_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_TRIGGERS}[dialect]:
        op.execute(statement)
    op.execute(
        "UPDATE albums SET photo_count = (SELECT count(*) FROM album_photos ap"
        " JOIN photos p ON p.id = ap.photo_id"
        " WHERE ap.album_id = albums.id AND p.deleted_at IS NULL)"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table in (
        ("album_photos_ai_count", "album_photos"),
        ("album_photos_ad_count", "album_photos"),
        ("photos_au_count", "photos"),
        ("photos_bd_count", "photos"),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_column("albums", "photo_count")
