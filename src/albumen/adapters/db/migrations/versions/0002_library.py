"""library: albums, sharing, tags, places, archive, the search index and timeline counts

Revision ID: 0002
Revises: 0001

On SQLite the search index is an FTS5 table and the geography an R*Tree, both keyed by
``photos.doc_id`` and kept in step by triggers, as are the per-day timeline counts: every
write path keeps them right, inside its own transaction.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EPOCH = datetime(1970, 1, 1)


def upgrade() -> None:
    _tables()
    _photo_columns()
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_INDEX:
            op.execute(statement)
        _fill_sqlite_index()


def _tables() -> None:
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=200), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("country_code", "region", "city", name="uq_places_name"),
    )
    op.create_table(
        "photo_tags",
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_photo_tags_photo_id_photos", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("photo_id", "tag", name="pk_photo_tags"),
    )
    op.create_index("ix_photo_tags_tag", "photo_tags", ["tag"])
    op.create_table(
        "albums",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("cover_photo_id", sa.String(length=36), nullable=True),
        sa.Column("sort_order", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_albums_owner_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["albums.id"], name="fk_albums_parent_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cover_photo_id"],
            ["photos.id"],
            name="fk_albums_cover_photo_id_photos",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_albums"),
    )
    op.create_index("ix_albums_owner", "albums", ["owner_id", "name"])
    op.create_index("ix_albums_parent", "albums", ["parent_id"])
    op.create_table(
        "album_photos",
        sa.Column("album_id", sa.String(length=36), nullable=False),
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("added_by", sa.String(length=36), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_album_photos_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_album_photos_photo_id_photos", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["users.id"], name="fk_album_photos_added_by_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("album_id", "photo_id", name="pk_album_photos"),
    )
    op.create_index("ix_album_photos_photo", "album_photos", ["photo_id"])
    op.create_index("ix_album_photos_order", "album_photos", ["album_id", "position"])
    op.create_table(
        "album_members",
        sa.Column("album_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_album_members_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_album_members_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("album_id", "user_id", name="pk_album_members"),
    )
    op.create_index("ix_album_members_user", "album_members", ["user_id"])
    op.create_table(
        "share_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("album_id", sa.String(length=36), nullable=True),
        sa.Column("photo_id", sa.String(length=36), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("allow_download", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_share_links_owner_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name="fk_share_links_album_id_albums", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_share_links_photo_id_photos", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_share_links"),
        sa.UniqueConstraint("token_hash", name="uq_share_links_token_hash"),
    )
    op.create_index("ix_share_links_owner", "share_links", ["owner_id", "created_at"])
    op.create_table(
        "timeline_days",
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_timeline_days_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("owner_id", "day", name="pk_timeline_days"),
    )


def _photo_columns() -> None:
    op.drop_index("ix_photos_timeline", "photos")
    with op.batch_alter_table("photos") as batch_op:
        batch_op.add_column(sa.Column("doc_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("archived", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("place_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_photos_place_id_places", "places", ["place_id"], ["id"])
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, sort_at FROM photos")).all()
    used: set[int] = set()
    for photo_id, sort_at in rows:
        stamp = sort_at if isinstance(sort_at, datetime) else datetime.fromisoformat(sort_at)
        key = _sort_key(stamp, used)
        conn.execute(
            sa.text("UPDATE photos SET doc_id = :k WHERE id = :i"), {"k": key, "i": photo_id}
        )
    with op.batch_alter_table("photos") as batch_op:
        batch_op.alter_column("doc_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint("uq_photos_doc_id", ["doc_id"])
    op.create_index(
        "ix_photos_timeline",
        "photos",
        ["owner_id", sa.text("doc_id DESC")],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    for flag in ("favorite", "archived"):
        op.create_index(
            f"ix_photos_{flag}",
            "photos",
            ["owner_id", sa.text("doc_id DESC")],
            sqlite_where=sa.text(f"deleted_at IS NULL AND {flag}"),
            postgresql_where=sa.text(f"deleted_at IS NULL AND {flag}"),
        )
    op.create_index(
        "ix_photos_mime",
        "photos",
        ["owner_id", "mime", sa.text("doc_id DESC")],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_photos_trash",
        "photos",
        ["owner_id", "deleted_at"],
        sqlite_where=sa.text("deleted_at IS NOT NULL"),
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )


def _sort_key(sort_at: datetime, used: set[int]) -> int:
    """As ``albumen.domain.photos.sort_key`` at this revision (a migration never imports code
    that may change later)."""
    ms = (sort_at - EPOCH) // timedelta(milliseconds=1)
    while True:
        key = ms << 10 | random.randrange(1024)
        if key not in used:
            used.add(key)
            return key


def _fill_sqlite_index() -> None:
    op.execute(f"INSERT INTO photo_fts(rowid, {COLUMNS}) SELECT doc_id, {COLUMNS} FROM photo_text")
    op.execute(
        "INSERT INTO photo_geo SELECT doc_id, lat, lat, lon, lon FROM photos WHERE lat IS NOT NULL"
    )
    op.execute(
        "INSERT INTO timeline_days SELECT owner_id, date(coalesce(taken_local, sort_at)), count(*) "
        "FROM photos WHERE deleted_at IS NULL AND NOT archived GROUP BY 1, 2"
    )


def _reindex(photo: str) -> str:
    """Statements that rewrite one photo's search row (``photo`` is an SQL expression)."""
    return f"""
    DELETE FROM photo_fts WHERE rowid = (SELECT doc_id FROM photos WHERE id = {photo});
    INSERT INTO photo_fts(rowid, {COLUMNS})
        SELECT doc_id, {COLUMNS}
        FROM photo_text WHERE id = {photo};"""


# The searchable text of a photo; album_ids holds its albums' ids as single tokens (no dashes)
# so that an album filter is one more term of the text query, walked in timeline order.
COLUMNS = "filename, description, tags, camera, place, albums, album_ids"
_ADD_NEW_DAY = """
    INSERT INTO timeline_days(owner_id, day, count)
        SELECT NEW.owner_id, date(coalesce(NEW.taken_local, NEW.sort_at)), 1
        WHERE NEW.deleted_at IS NULL AND NOT NEW.archived
        ON CONFLICT(owner_id, day) DO UPDATE SET count = count + 1;"""
_REMOVE_OLD_DAY = """
    UPDATE timeline_days SET count = count - 1
        WHERE OLD.deleted_at IS NULL AND NOT OLD.archived AND owner_id = OLD.owner_id
        AND day = date(coalesce(OLD.taken_local, OLD.sort_at));
    DELETE FROM timeline_days WHERE owner_id = OLD.owner_id AND count <= 0;"""


SQLITE_INDEX = [
    # Porter stemming is off on purpose: place and camera names must match as typed.
    f"""CREATE VIRTUAL TABLE photo_fts USING fts5(
        {COLUMNS},
        tokenize = "unicode61 remove_diacritics 2", prefix = '2 3')""",
    "CREATE VIRTUAL TABLE photo_fts_vocab USING fts5vocab(photo_fts, 'row')",
    "CREATE VIRTUAL TABLE photo_geo USING rtree(doc_id, min_lat, max_lat, min_lon, max_lon)",
    """CREATE VIEW photo_text AS SELECT
        p.id, p.doc_id, p.filename,
        coalesce(p.description, '') AS description,
        coalesce((SELECT group_concat(t.tag, ' ') FROM photo_tags t WHERE t.photo_id = p.id), '')
            AS tags,
        trim(coalesce(p.make, '') || ' ' || coalesce(p.model, '') || ' ' || coalesce(p.lens, ''))
            AS camera,
        coalesce((SELECT c.city || ' ' || c.region || ' ' || c.country
                  FROM places c WHERE c.id = p.place_id), '') AS place,
        coalesce((SELECT group_concat(a.name, ' ') FROM album_photos ap
                  JOIN albums a ON a.id = ap.album_id WHERE ap.photo_id = p.id), '') AS albums,
        coalesce((SELECT group_concat(replace(ap.album_id, '-', ''), ' ') FROM album_photos ap
                  WHERE ap.photo_id = p.id), '') AS album_ids
    FROM photos p""",
    f"""CREATE TRIGGER photos_ai AFTER INSERT ON photos BEGIN
        {_reindex("NEW.id")}
        INSERT INTO photo_geo SELECT NEW.doc_id, NEW.lat, NEW.lat, NEW.lon, NEW.lon
            WHERE NEW.lat IS NOT NULL;
        {_ADD_NEW_DAY}
    END""",
    f"""CREATE TRIGGER photos_ad AFTER DELETE ON photos BEGIN
        DELETE FROM photo_fts WHERE rowid = OLD.doc_id;
        DELETE FROM photo_geo WHERE doc_id = OLD.doc_id;
        {_REMOVE_OLD_DAY}
    END""",
    f"""CREATE TRIGGER photos_au_text AFTER UPDATE OF
        filename, description, make, model, lens, place_id, doc_id ON photos BEGIN
        DELETE FROM photo_fts WHERE rowid = OLD.doc_id;
        {_reindex("NEW.id").split(";", 1)[1]}
    END""",
    """CREATE TRIGGER photos_au_geo AFTER UPDATE OF lat, lon, doc_id ON photos BEGIN
        DELETE FROM photo_geo WHERE doc_id = OLD.doc_id;
        INSERT INTO photo_geo SELECT NEW.doc_id, NEW.lat, NEW.lat, NEW.lon, NEW.lon
            WHERE NEW.lat IS NOT NULL;
    END""",
    f"""CREATE TRIGGER photos_au_days AFTER UPDATE OF
        sort_at, taken_local, deleted_at, archived ON photos BEGIN
        {_REMOVE_OLD_DAY}
        {_ADD_NEW_DAY}
    END""",
    f"""CREATE TRIGGER photo_tags_ai AFTER INSERT ON photo_tags BEGIN
        {_reindex("NEW.photo_id")} END""",
    f"""CREATE TRIGGER photo_tags_ad AFTER DELETE ON photo_tags BEGIN
        {_reindex("OLD.photo_id")} END""",
    f"""CREATE TRIGGER album_photos_ai AFTER INSERT ON album_photos BEGIN
        {_reindex("NEW.photo_id")} END""",
    f"""CREATE TRIGGER album_photos_ad AFTER DELETE ON album_photos BEGIN
        {_reindex("OLD.photo_id")} END""",
    f"""CREATE TRIGGER albums_au_name AFTER UPDATE OF name ON albums BEGIN
        DELETE FROM photo_fts WHERE rowid IN (SELECT p.doc_id FROM album_photos ap
            JOIN photos p ON p.id = ap.photo_id WHERE ap.album_id = NEW.id);
        INSERT INTO photo_fts(rowid, {COLUMNS})
            SELECT doc_id, {COLUMNS} FROM photo_text
            WHERE id IN (SELECT photo_id FROM album_photos WHERE album_id = NEW.id);
    END""",
]


def downgrade() -> None:
    raise NotImplementedError("0002 is not reversible; restore a backup instead")
