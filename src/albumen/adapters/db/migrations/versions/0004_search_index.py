"""search index: FTS5 over each photo's text (with album ids and people), an R*Tree of
positions, and the triggers that keep them and the day counts in step

Revision ID: 0004
Revises: 0003

On SQLite the search index is an FTS5 table and the geography an R*Tree, both keyed by
``photos.doc_id`` and kept in step by triggers, as are the per-day timeline counts: every
write path keeps them right, inside its own transaction. PostgreSQL gets its own index with
the scale-out issue.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_INDEX:
            op.execute(statement)
        _fill_sqlite_index()


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
COLUMNS = "filename, description, tags, camera, place, albums, album_ids, people"
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
                  WHERE ap.photo_id = p.id), '') AS album_ids,
        coalesce((SELECT group_concat(DISTINCT h.name) FROM faces f
                  JOIN people h ON h.id = f.person_id
                  WHERE f.photo_id = p.id AND h.name IS NOT NULL), '') AS people
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
    f"""CREATE TRIGGER faces_ai AFTER INSERT ON faces BEGIN {_reindex("NEW.photo_id")} END""",
    f"""CREATE TRIGGER faces_ad AFTER DELETE ON faces BEGIN {_reindex("OLD.photo_id")} END""",
    f"""CREATE TRIGGER faces_au AFTER UPDATE OF person_id ON faces BEGIN
        {_reindex("NEW.photo_id")} END""",
    f"""CREATE TRIGGER people_au_name AFTER UPDATE OF name ON people BEGIN
        DELETE FROM photo_fts WHERE rowid IN (SELECT p.doc_id FROM faces f
            JOIN photos p ON p.id = f.photo_id WHERE f.person_id = NEW.id);
        INSERT INTO photo_fts(rowid, {COLUMNS})
            SELECT doc_id, {COLUMNS} FROM photo_text
            WHERE id IN (SELECT photo_id FROM faces WHERE person_id = NEW.id);
    END""",
]


def downgrade() -> None:
    raise NotImplementedError("0004 is not reversible; restore a backup instead")
