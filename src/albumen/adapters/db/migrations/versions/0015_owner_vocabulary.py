"""search vocabulary per owner: whether a typed word starts a word, and which words are a
typo away, are asked of the searcher's own words only

Before, both were asked of the words of every library: a word another user had answered in
a few ms, one nobody had spent 50-130 ms on its typos, and a second user read a private album
name letter by letter from the difference. ``search_terms`` now holds ``(owner_id, term)``:
every word each owner's library has held (words are kept when a photo goes, as before: they
are the owner's own, and a stale one costs nothing but a typo expansion skipped).

On SQLite the words come from triggers beside the search index's own, splitting the new text
with ``search_words`` (a function the engine registers on every connection,
``adapters.db.search.words``). On PostgreSQL ``photo_reindex`` adds the words of the
document it writes, with the owner it writes them for.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES:
            op.execute(statement)
        return
    for statement in SQLITE:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("0015 is not reversible; restore a backup instead")


def _add_words(owner: str, body: str, where: str = "") -> str:
    """SQLite: the words of ``body`` (an SQL text expression) into ``owner``'s vocabulary."""
    condition = f" WHERE {owner} IS NOT NULL" + (f" AND {where}" if where else "")
    return (
        f"INSERT OR IGNORE INTO search_terms (owner_id, term) SELECT {owner}, w.value"
        f" FROM json_each(search_words({body})) AS w{condition};"
    )


def _text(*parts: str) -> str:
    return " || ' ' || ".join(f"coalesce({part}, '')" for part in parts)


_PHOTO_TEXT = _text(
    "NEW.filename",
    "NEW.description",
    "NEW.make",
    "NEW.model",
    "NEW.lens",
    "(SELECT c.city || ' ' || c.region || ' ' || c.country FROM places c"
    " WHERE c.id = NEW.place_id)",
)
_PHOTO_OWNER = "(SELECT owner_id FROM photos WHERE id = NEW.photo_id)"

SQLITE = [
    """CREATE TABLE search_terms (
        owner_id VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        term TEXT NOT NULL,
        PRIMARY KEY (owner_id, term)) WITHOUT ROWID""",
    f"""CREATE TRIGGER photos_ai_terms AFTER INSERT ON photos BEGIN
        {_add_words("NEW.owner_id", _PHOTO_TEXT)} END""",
    f"""CREATE TRIGGER photos_au_terms AFTER UPDATE OF
        filename, description, make, model, lens, place_id ON photos BEGIN
        {_add_words("NEW.owner_id", _PHOTO_TEXT)} END""",
    f"""CREATE TRIGGER photo_tags_ai_terms AFTER INSERT ON photo_tags BEGIN
        {_add_words(_PHOTO_OWNER, "NEW.tag")} END""",
    f"""CREATE TRIGGER album_photos_ai_terms AFTER INSERT ON album_photos BEGIN
        {_add_words(_PHOTO_OWNER, "(SELECT name FROM albums WHERE id = NEW.album_id)")} END""",
    f"""CREATE TRIGGER albums_au_name_terms AFTER UPDATE OF name ON albums BEGIN
        {
        _add_words(
            "NEW.owner_id",
            "NEW.name",
            "EXISTS (SELECT 1 FROM album_photos WHERE album_id = NEW.id)",
        )
    } END""",
    f"""CREATE TRIGGER faces_ai_terms AFTER INSERT ON faces BEGIN
        {_add_words(_PHOTO_OWNER, "(SELECT name FROM people WHERE id = NEW.person_id)")} END""",
    f"""CREATE TRIGGER faces_au_terms AFTER UPDATE OF person_id ON faces BEGIN
        {_add_words(_PHOTO_OWNER, "(SELECT name FROM people WHERE id = NEW.person_id)")} END""",
    f"""CREATE TRIGGER people_au_name_terms AFTER UPDATE OF name ON people BEGIN
        {
        _add_words(
            "NEW.owner_id", "NEW.name", "EXISTS (SELECT 1 FROM faces WHERE person_id = NEW.id)"
        )
    } END""",
    # the words every photo has now, as the search index holds them
    """INSERT OR IGNORE INTO search_terms (owner_id, term)
        SELECT p.owner_id, w.value FROM photos p JOIN photo_text t ON t.id = p.id,
        json_each(search_words(t.filename || ' ' || t.description || ' ' || t.tags || ' '
            || t.camera || ' ' || t.place || ' ' || t.albums || ' ' || t.people)) AS w""",
]


# migration 0004's document, as it stands at this revision
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

POSTGRES = [
    "DROP TABLE search_terms",
    """CREATE TABLE search_terms (
        owner_id varchar(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        term text COLLATE "C" NOT NULL,
        PRIMARY KEY (owner_id, term))""",
    f"""CREATE OR REPLACE FUNCTION photo_reindex(photo varchar) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE found_row record;
        BEGIN
            SELECT t.doc_id, t.owner_id, {_PG_DOCUMENT} AS document INTO found_row
                FROM photo_text t WHERE t.id = photo;
            IF NOT FOUND THEN RETURN; END IF;
            INSERT INTO photo_search (doc_id, owner_id, document)
                VALUES (found_row.doc_id, found_row.owner_id, found_row.document)
                ON CONFLICT (doc_id) DO UPDATE SET owner_id = EXCLUDED.owner_id,
                    document = EXCLUDED.document;
            INSERT INTO search_terms (owner_id, term)
                SELECT found_row.owner_id, lexeme FROM unnest(found_row.document)
                WHERE lexeme NOT LIKE '~%'
                ON CONFLICT DO NOTHING;
        END $$""",
    """INSERT INTO search_terms (owner_id, term)
        SELECT DISTINCT s.owner_id, w.lexeme FROM photo_search s, unnest(s.document) AS w
        WHERE w.lexeme NOT LIKE '~%'""",
]
