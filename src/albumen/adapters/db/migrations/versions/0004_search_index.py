"""search index: FTS5 over each photo's text (with album ids and people), an R*Tree of
positions, and the triggers that keep them and the day counts in step

Revision ID: 0004
Revises: 0003

On SQLite the search index is an FTS5 table and the geography an R*Tree, both keyed by
``photos.doc_id`` and kept in step by triggers, as are the per-day timeline counts: every
write path keeps them right, inside its own transaction.

On PostgreSQL the same text is a ``tsvector`` in ``photo_search`` (GIN over owner and document,
with btree_gin), folded by an ``albumen`` text search configuration (simple + unaccent). Each
column's words are also there labelled (``~camera~canon``), so that ``camera:canon`` matches
that column only, and a photo's albums are ``~album~<id>``, its type ``~type~<mime>``, and
its flags ``~is~favorite``, ``~is~archived``, ``~is~trashed``, ``~has~location``: a search
that has words intersects them in the index, and sorts its matches without reading a photo's
row. ``search_terms`` keeps
every word seen, for the words a typo away. The same triggers, in PL/pgSQL, keep both and the
day counts in step.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_INDEX:
            op.execute(statement)
        _fill_sqlite_index()
    elif dialect == "postgresql":
        for statement in POSTGRES_INDEX:
            op.execute(statement)
        op.execute("SELECT photo_reindex(id) FROM photos")
        op.execute(
            "INSERT INTO timeline_days SELECT owner_id, timeline_day(taken_local, sort_at),"
            " count(*) FROM photos WHERE deleted_at IS NULL AND NOT archived GROUP BY 1, 2"
        )


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


# Per column: its weight in relevance (A 1.0, B 0.4, C 0.2, D 0.1, as bm25's above) and
# whether its words are also indexed under its label, for column filters.
_PG_COLUMNS = {
    "filename": ("D", True),
    "description": ("B", False),
    "tags": ("A", True),
    "camera": ("C", True),
    "place": ("A", True),
    "albums": ("B", False),
    "people": ("A", True),
}
_PG_DOCUMENT = " || ".join(
    [f"setweight(search_words(t.{c}), '{w}')" for c, (w, _) in _PG_COLUMNS.items()]
    + [f"search_labelled('{c}', t.{c})" for c, (_, labelled) in _PG_COLUMNS.items() if labelled]
    + ["array_to_tsvector(t.album_ids)"]
)


def _pg_trigger(name: str, when: str, table: str, body: str) -> list[str]:
    """A row trigger and its PL/pgSQL function of the same name."""
    return [
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {body} RETURN NULL; END $$""",
        f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


_PG_ADD_NEW_DAY = """
    IF NEW.deleted_at IS NULL AND NOT NEW.archived THEN
        INSERT INTO timeline_days(owner_id, day, count)
            VALUES (NEW.owner_id, timeline_day(NEW.taken_local, NEW.sort_at), 1)
            ON CONFLICT (owner_id, day) DO UPDATE SET count = timeline_days.count + 1;
    END IF;"""
_PG_REMOVE_OLD_DAY = """
    IF OLD.deleted_at IS NULL AND NOT OLD.archived THEN
        UPDATE timeline_days SET count = count - 1 WHERE owner_id = OLD.owner_id
            AND day = timeline_day(OLD.taken_local, OLD.sort_at);
        DELETE FROM timeline_days WHERE owner_id = OLD.owner_id AND count <= 0;
    END IF;"""
_PG_REINDEX_ALBUM = """PERFORM photo_reindex(ap.photo_id) FROM album_photos ap
    WHERE ap.album_id = NEW.id;"""
_PG_REINDEX_PERSON = "PERFORM photo_reindex(f.photo_id) FROM faces f WHERE f.person_id = NEW.id;"

POSTGRES_INDEX = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE TEXT SEARCH CONFIGURATION albumen (COPY = simple)",
    """ALTER TEXT SEARCH CONFIGURATION albumen ALTER MAPPING FOR
        asciiword, word, numword WITH unaccent, simple""",
    # Words are runs of letters and digits, as SQLite's unicode61 tokenizer has them; the
    # parser alone would keep "IMG_0001.JPG" whole (a host name) and "-2019" signed.
    """CREATE FUNCTION search_words(body text) RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT to_tsvector('albumen', regexp_replace(body, '[^[:alnum:]]+', ' ', 'g')) $$""",
    """CREATE TABLE photo_search (
        doc_id bigint PRIMARY KEY,
        owner_id varchar(36) NOT NULL,
        document tsvector NOT NULL)""",
    "CREATE INDEX ix_photo_search_document ON photo_search USING gin (owner_id, document)",
    'CREATE TABLE search_terms (term text COLLATE "C" PRIMARY KEY)',
    """CREATE FUNCTION timeline_day(local timestamp, sort timestamp) RETURNS varchar
        LANGUAGE sql IMMUTABLE AS $$ SELECT to_char(coalesce(local, sort), 'YYYY-MM-DD') $$""",
    """CREATE VIEW photo_text AS SELECT
        p.id, p.doc_id, p.owner_id, p.filename,
        coalesce(p.description, '') AS description,
        coalesce((SELECT string_agg(t.tag, ' ') FROM photo_tags t WHERE t.photo_id = p.id), '')
            AS tags,
        trim(coalesce(p.make, '') || ' ' || coalesce(p.model, '') || ' ' || coalesce(p.lens, ''))
            AS camera,
        coalesce((SELECT c.city || ' ' || c.region || ' ' || c.country
                  FROM places c WHERE c.id = p.place_id), '') AS place,
        coalesce((SELECT string_agg(a.name, ' ') FROM album_photos ap
                  JOIN albums a ON a.id = ap.album_id WHERE ap.photo_id = p.id), '') AS albums,
        ARRAY(SELECT '~album~' || ap.album_id FROM album_photos ap WHERE ap.photo_id = p.id)
            || ARRAY['~type~' || p.mime]
            || CASE WHEN p.favorite THEN ARRAY['~is~favorite'] ELSE ARRAY[]::text[] END
            || CASE WHEN p.archived THEN ARRAY['~is~archived'] ELSE ARRAY[]::text[] END
            || CASE WHEN p.deleted_at IS NOT NULL THEN ARRAY['~is~trashed'] ELSE ARRAY[]::text[] END
            || CASE WHEN p.lat IS NOT NULL THEN ARRAY['~has~location'] ELSE ARRAY[]::text[] END
            AS album_ids,
        coalesce((SELECT string_agg(DISTINCT h.name, ' ') FROM faces f
                  JOIN people h ON h.id = f.person_id
                  WHERE f.photo_id = p.id AND h.name IS NOT NULL), '') AS people
    FROM photos p""",
    """CREATE FUNCTION search_labelled(label text, body text) RETURNS tsvector
        LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_to_tsvector(array_agg('~' || label || '~' || lexeme)), '')
        FROM unnest(search_words(body)) $$""",
    f"""CREATE FUNCTION photo_reindex(photo varchar) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE found_row record;
        BEGIN
            SELECT t.doc_id, t.owner_id, {_PG_DOCUMENT} AS document INTO found_row
                FROM photo_text t WHERE t.id = photo;
            IF NOT FOUND THEN RETURN; END IF;
            INSERT INTO photo_search (doc_id, owner_id, document)
                VALUES (found_row.doc_id, found_row.owner_id, found_row.document)
                ON CONFLICT (doc_id) DO UPDATE SET owner_id = EXCLUDED.owner_id,
                    document = EXCLUDED.document;
            INSERT INTO search_terms (term)
                SELECT lexeme FROM unnest(found_row.document) WHERE lexeme NOT LIKE '~%'
                ON CONFLICT DO NOTHING;
        END $$""",
    *_pg_trigger(
        "photos_ai",
        "AFTER INSERT",
        "photos",
        f"PERFORM photo_reindex(NEW.id); {_PG_ADD_NEW_DAY}",
    ),
    *_pg_trigger(
        "photos_ad",
        "AFTER DELETE",
        "photos",
        f"DELETE FROM photo_search WHERE doc_id = OLD.doc_id; {_PG_REMOVE_OLD_DAY}",
    ),
    *_pg_trigger(
        "photos_au_text",
        "AFTER UPDATE OF filename, description, make, model, lens, place_id, doc_id,"
        " mime, favorite, archived, deleted_at, lat",
        "photos",
        "DELETE FROM photo_search WHERE doc_id = OLD.doc_id; PERFORM photo_reindex(NEW.id);",
    ),
    *_pg_trigger(
        "photos_au_days",
        "AFTER UPDATE OF sort_at, taken_local, deleted_at, archived",
        "photos",
        _PG_REMOVE_OLD_DAY + _PG_ADD_NEW_DAY,
    ),
    *_pg_trigger(
        "photo_tags_ai", "AFTER INSERT", "photo_tags", "PERFORM photo_reindex(NEW.photo_id);"
    ),
    *_pg_trigger(
        "photo_tags_ad", "AFTER DELETE", "photo_tags", "PERFORM photo_reindex(OLD.photo_id);"
    ),
    *_pg_trigger(
        "album_photos_ai", "AFTER INSERT", "album_photos", "PERFORM photo_reindex(NEW.photo_id);"
    ),
    *_pg_trigger(
        "album_photos_ad", "AFTER DELETE", "album_photos", "PERFORM photo_reindex(OLD.photo_id);"
    ),
    *_pg_trigger("albums_au_name", "AFTER UPDATE OF name", "albums", _PG_REINDEX_ALBUM),
    *_pg_trigger("faces_ai", "AFTER INSERT", "faces", "PERFORM photo_reindex(NEW.photo_id);"),
    *_pg_trigger("faces_ad", "AFTER DELETE", "faces", "PERFORM photo_reindex(OLD.photo_id);"),
    *_pg_trigger(
        "faces_au", "AFTER UPDATE OF person_id", "faces", "PERFORM photo_reindex(NEW.photo_id);"
    ),
    *_pg_trigger("people_au_name", "AFTER UPDATE OF name", "people", _PG_REINDEX_PERSON),
]


def downgrade() -> None:
    raise NotImplementedError("0004 is not reversible; restore a backup instead")
