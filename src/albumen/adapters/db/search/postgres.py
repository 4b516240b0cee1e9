"""``PostgresSearchIndex``: search on PostgreSQL, with the same answers as on SQLite.

Text is a ``tsvector`` per photo in ``photo_search`` (migration 0004), GIN-indexed over owner
and document (btree_gin), so a text search reads only the owner's matching photos and sorts
them by ``doc_id``, the timeline order. The document also holds the photo's flags (trashed
too), so a text search reads no photo's row but those of the page it returns. The words of a
query are folded by PostgreSQL itself (the ``albumen`` configuration: simple and unaccent),
exactly as the documents were, and the query is built from those words as a ``tsquery``. A
column filter (``camera:canon``) matches that column's labelled words (``~camera~canon``); an
album filter the photo's ``~album~<id>``. Places use the GiST index on ``point(lon, lat)``
(migration 0010) and the same haversine distance as SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from albumen.adapters.db.replicas import ReadRouting
from albumen.adapters.db.search.core import (
    NEAR_TERMS,
    Query,
    TextMatch,
    after_cursor,
    day_counts,
    doc_range,
    filter_suggestions,
    flag_filters,
    has_token,
    in_order,
    may_be_mistyped,
    one_typo,
    paged,
    suggest,
    within_circle,
)
from albumen.adapters.db.search.words import fold
from albumen.domain.photos import Page, TimelineCursor, sort_key_bounds
from albumen.domain.search import (
    SEARCH_SECONDS,
    Box,
    SearchFilters,
    SearchOrder,
    SearchTooCostly,
    Suggestion,
)

# The columns' say in relevance is in the document's weights (A, B, C, D); ts_rank's own.
_RANK = "ts_rank(s.document, CAST(:match AS tsquery))"
_NOTHING = "'~nothing~'"  # a tsquery term no document holds
_NOT_TRASHED = "!'~is~trashed'"
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by its timeout
_COLUMNS = {
    "cameras": "camera",
    "tags": "tags",
    "places": "place",
    "filenames": "filename",
    "people": "people",
}


class PostgresSearchIndex:
    def __init__(self, engine: Engine, reads: ReadRouting | None = None) -> None:
        self._engine = engine
        self._reads = reads  # searches may come from a replica

    def _reader(self, owner_id: str) -> Engine:
        return self._engine if self._reads is None else self._reads.for_user(owner_id)

    @contextmanager
    def budgeted(self, owner_id: str) -> Iterator[Connection]:
        """A connection (in a transaction) whose statements stop after ``SEARCH_SECONDS``
        each (``SearchTooCostly``): the words and filters a query may have bound the rest."""
        with self._reader(owner_id).connect() as conn:
            conn.execute(text(f"SET LOCAL statement_timeout = {int(SEARCH_SECONDS * 1000)}"))
            try:
                yield conn
            except OperationalError as err:
                if getattr(err.orig, "sqlstate", None) == _QUERY_CANCELED:
                    raise SearchTooCostly() from err
                raise

    def search(
        self,
        owner_id: str,
        filters: SearchFilters,
        album_ids: Sequence[str] | None,
        order: SearchOrder,
        limit: int,
        after: TimelineCursor | None,
        count_cap: int = 0,
    ) -> tuple[Page, int | None]:
        """A page of results and, when ``count_cap`` is given, how many match (counting no
        further than the cap). When every match was read to sort them, the count comes with
        the page; otherwise it is one more query."""
        with self.budgeted(owner_id) as conn:
            query = self._query(conn, owner_id, filters, album_ids, order)
            whole = replace(query)  # what the count counts: from the start, not the cursor
            after_cursor(query, order, after)
            rows, total = None, None
            if query.score is None:  # by date: the newest rows first
                rows = _from_recent(conn, query, _window(filters, order, after), limit + 1)
            if rows is None:
                counted = bool(count_cap) and after is None
                rows = _from_indexes(conn, query, limit + 1, counted)
                if counted:
                    total = min(rows[0].total if rows else 0, count_cap)
            if count_cap and total is None:
                total = _count(conn, whole, count_cap)
            found = in_order(conn, [row.doc_id for row in rows], by="doc_id")
        return paged(found, limit, [row.score for row in rows] if query.score else None), total

    def buckets(
        self,
        owner_id: str,
        filters: SearchFilters | None,
        album_ids: Sequence[str] | None,
        by_day: bool,
    ) -> list[tuple[str, int]]:
        """Photo counts per month (``2019-06``) or day, newest first. Without filters they
        come from the timeline's day counts, which triggers keep."""
        width = 10 if by_day else 7
        with self.budgeted(owner_id) as conn:
            if filters is None:
                return day_counts(conn, owner_id, width)
            query = self._query(conn, owner_id, filters, album_ids, SearchOrder.NEWEST, rows=True)
            day = f"substr(timeline_day(p.taken_local, p.sort_at), 1, {width})"
            sql = f"{query.select(f'{day} AS k, count(*)')} GROUP BY k ORDER BY k DESC"
            return [(k, int(n)) for k, n in conn.execute(text(sql), query.params)]

    def suggest(self, owner_id: str, prefix: str, limit: int) -> list[Suggestion]:
        """What the owner's library has that starts with ``prefix`` (``core.suggest``), found
        through the labelled words of each column, folded by PostgreSQL as the documents were."""
        word = fold(prefix)
        if not has_token(word):
            return []
        with self.budgeted(owner_id) as conn:
            words = _lexemes(conn, [prefix])[0]
            if not words:
                return filter_suggestions(word)[:limit]

            def match(column: str) -> str:
                return " & ".join(_term(f"~{column}~{w}") + ":*" for w in words)

            found_by = TextMatch(_SUGGEST_DOCS, match, "ILIKE", _like(word))
            return suggest(conn, owner_id, word, limit, found_by)

    def explain(
        self, owner_id: str, filters: SearchFilters, album_ids: Sequence[str] | None
    ) -> list[str]:
        """PostgreSQL's plan for a search (for the benchmark's record of index use)."""
        with self._engine.connect() as conn:
            query = self._query(conn, owner_id, filters, album_ids, SearchOrder.NEWEST)
            sql = f"EXPLAIN {query.select(query.key)} ORDER BY {query.order} LIMIT 101"
            return [row[0] for row in conn.execute(text(sql), query.params)]

    def _query(
        self,
        conn: Connection,
        owner_id: str,
        filters: SearchFilters,
        album_ids: Sequence[str] | None,
        order: SearchOrder,
        rows: bool = False,
    ) -> Query:
        """The search's SQL. With words it reads ``photo_search`` alone (the photo's flags and
        trash are terms of its document) unless a place or ``rows`` (the photo's columns)
        needs the photo's row too."""
        match = _tsquery(conn, owner_id, filters, album_ids)
        if match is not None:
            joined = rows or filters.within is not None or filters.near is not None
            join = " JOIN photos p ON p.doc_id = s.doc_id" if joined else ""
            query = Query(f"photo_search s{join}")
            query.where(
                "s.owner_id = :owner AND s.document @@ CAST(:match AS tsquery)",
                owner=owner_id,
                match=match,
            )
            if order is SearchOrder.RELEVANCE:
                query.score, query.order = _RANK, f"{_RANK} DESC, s.doc_id DESC"
            else:
                query.order = "s.doc_id DESC" if order is SearchOrder.NEWEST else "s.doc_id"
        else:
            query = Query("photos p")
            if order is SearchOrder.OLDEST:
                query.order = "p.doc_id"
            if filters.excluded:
                query.where(
                    "p.doc_id NOT IN (SELECT doc_id FROM photo_search WHERE owner_id = :owner"
                    " AND document @@ CAST(:excluded AS tsquery))",
                    excluded=_any_of(_lexemes(conn, filters.excluded)),
                )
            query.where("p.owner_id = :owner AND p.deleted_at IS NULL", owner=owner_id)
            flag_filters(query, filters)
        doc_range(query, filters, query.key)
        _geo_filters(query, filters)
        return query


# How many of the owner's newest rows (in the search's range) are checked first: a page of
# matches among them is the answer. Only when they hold fewer are the indexes of the search's
# words, places or flags asked for every match, and those sorted. (A second, wider look, of
# 40,000 rows, cost more than it saved: p50 36 -> 84 ms on the million-photo benchmark.)
RECENT = 5_000


@dataclass(frozen=True)
class _Window:
    descending: bool
    low: int | None  # doc_id >= low
    high: int | None  # doc_id < high


def _window(filters: SearchFilters, order: SearchOrder, after: TimelineCursor | None) -> _Window:
    low, high = sort_key_bounds(filters.after, filters.before)
    descending = order is not SearchOrder.OLDEST
    if after is not None and descending:
        high = after.doc_id if high is None else min(high, after.doc_id)
    elif after is not None:
        low = after.doc_id + 1 if low is None else max(low, after.doc_id + 1)
    return _Window(descending, low, high)


def _from_recent(conn: Connection, query: Query, window: _Window, wanted: int) -> list[Any] | None:
    """The first ``wanted`` matches among the owner's ``RECENT`` newest rows (oldest, for that
    order) in the range, read in order through the owner's (owner, doc_id) index; ``None``
    when those rows hold fewer. The walk stops at the last match it needs, so a common word
    reads a few hundred rows; a rare one reads ``RECENT`` and goes to the indexes. (PostgreSQL
    itself would either sort every match or walk the whole table in date order hoping to
    meet them soon: which it picks depends on a guess that fails both ways.)"""
    text_search = query.source.startswith("photo_search")
    table, alias = ("photo_search", "s") if text_search else ("photos", "p")
    where = ["owner_id = :owner"] + ([] if text_search else ["deleted_at IS NULL"])
    params = dict(query.params)
    if window.low is not None:
        where.append("doc_id >= :window_low")
        params["window_low"] = window.low
    if window.high is not None:
        where.append("doc_id < :window_high")
        params["window_high"] = window.high
    direction = "DESC" if window.descending else ""
    newest = (
        f"(SELECT * FROM {table} WHERE {' AND '.join(where)}"
        f" ORDER BY doc_id {direction} LIMIT :recent) {alias}"
    )
    source = query.source.replace(f"{table} {alias}", newest, 1)
    sql = replace(query, source=source).select(f"{query.key} AS doc_id")
    sql += f" ORDER BY {query.order} LIMIT :wanted"
    rows = list(conn.execute(text(sql), params | {"recent": RECENT, "wanted": wanted}).all())
    return rows if len(rows) >= wanted else None


def _from_indexes(conn: Connection, query: Query, wanted: int, counted: bool) -> list[Any]:
    """Every match, found through the indexes of the words, places or flags, then sorted
    (``doc_id + 0``: not the walk in date order, which the planner picks for a LIMIT when it
    wrongly takes the matches to be spread evenly over the years). ``counted``: each row also
    says how many matched (``total``), which costs a full sort instead of a top-N one."""
    score = f", {query.score} AS score" if query.score else ""
    total = ", count(*) OVER () AS total" if counted else ""
    order = re.sub(r"\b([sp])\.doc_id\b", r"(\1.doc_id + 0)", query.order)
    columns = f"{query.key} AS doc_id{score}{total}"
    sql = query.select(columns) + f" ORDER BY {order} LIMIT :wanted"
    return list(conn.execute(text(sql), query.params | {"wanted": wanted}).all())


def _tsquery(
    conn: Connection, owner_id: str, filters: SearchFilters, album_ids: Sequence[str] | None
) -> str | None:
    """The query: the words (as prefixes, or a typo away), the phrases, the column filters
    and the albums, all required; then none of the excluded."""
    columns = [
        (column, value) for name, column in _COLUMNS.items() for value in getattr(filters, name)
    ]
    values = [*filters.words, *filters.phrases, *(value for _, value in columns)]
    lexemes = iter(_lexemes(conn, [*values, *filters.excluded]))
    parts = [_word(conn, owner_id, next(lexemes)) for _ in filters.words]
    parts += [" <-> ".join(map(_term, next(lexemes))) for _ in filters.phrases]
    for column, _value in columns:
        words = next(lexemes)
        parts.append(" & ".join(_term(f"~{column}~{w}") for w in words) or _NOTHING)
    if album_ids is not None:
        parts.append(" | ".join(_term(f"~album~{album_id}") for album_id in album_ids) or _NOTHING)
    parts = [f"({part})" for part in parts if part]
    if not parts:
        return None
    # with words, the flags too are intersected in the index, and the trash left out there
    parts += [_NOT_TRASHED, *_flag_terms(filters)]
    match = " & ".join(parts)
    if filters.excluded:
        match = f"({match}) & !({_any_of(list(lexemes))})"
    return match


def _flag_terms(filters: SearchFilters) -> list[str]:
    """The photo's own filters as the document's labelled terms (migration 0004's view)."""
    terms = []
    for label, wanted in (
        ("~is~favorite", filters.favorite),
        ("~is~archived", filters.archived),
        ("~has~location", filters.has_location),
    ):
        if wanted is not None:
            terms.append(_term(label) if wanted else f"!{_term(label)}")
    if filters.mimes:
        terms.append("(" + " | ".join(_term(f"~type~{mime}") for mime in filters.mimes) + ")")
    return terms


def _word(conn: Connection, owner_id: str, words: list[str]) -> str:
    """A word as a prefix; a word that starts none of the owner's words also matches those
    of their words one typo away (a letter changed, added, dropped or swapped). Only the
    owner's vocabulary is asked: what others have never changes the work or the answer."""
    if not words:
        return ""
    prefix = " & ".join(_term(w) + ":*" for w in words)
    if len(words) > 1 or not may_be_mistyped(words[0]):
        return prefix
    word = words[0]
    starts = conn.execute(
        text(
            "SELECT 1 FROM search_terms WHERE owner_id = :owner"
            " AND term >= :low AND term < :high LIMIT 1"
        ),
        {"owner": owner_id, "low": word, "high": word + "\U0010ffff"},
    ).first()
    if starts is not None:
        return prefix
    near = conn.execute(
        text(
            "SELECT term FROM search_terms WHERE owner_id = :owner"
            " AND term = ANY(:candidates) ORDER BY term LIMIT :most"
        ),
        {"owner": owner_id, "candidates": sorted(one_typo(word)), "most": NEAR_TERMS},
    ).scalars()
    return " | ".join([prefix, *map(_term, near)])


def _lexemes(conn: Connection, values: Sequence[str]) -> list[list[str]]:
    """Each value's words as PostgreSQL folds them for the index, in the order written."""
    if not values:
        return []
    rows = conn.execute(
        text(
            "SELECT v.i, w.lexeme FROM unnest(CAST(:values AS text[])) WITH ORDINALITY"
            " AS v(value, i), unnest(search_words(v.value)) AS w"
            " ORDER BY v.i, w.positions[1]"
        ),
        {"values": list(values)},
    ).all()
    found: list[list[str]] = [[] for _ in values]
    for index, lexeme in rows:
        found[index - 1].append(lexeme)
    return found


def _any_of(phrases: list[list[str]]) -> str:
    parts = [" <-> ".join(map(_term, words)) for words in phrases if words]
    return " | ".join(f"({part})" for part in parts) or _NOTHING


def _term(lexeme: str) -> str:
    """A lexeme as a ``tsquery`` term: quoted, so nothing in it is an operator."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _geo_filters(query: Query, filters: SearchFilters) -> None:
    """Areas through the GiST index on ``point(lon, lat)``; a circle is its box, then the
    haversine distance (the same as on SQLite)."""
    if filters.within is not None:
        _in_box(query, filters.within, "w")
    if filters.near is not None:
        _in_box(query, filters.near.box(), "n")
        within_circle(query, filters.near, "least")


def _in_box(query: Query, box: Box, name: str) -> None:
    def inside(west: str, east: str) -> str:
        return f"point(p.lon, p.lat) <@ box(point({west}, :{name}s), point({east}, :{name}n))"

    if box.west <= box.east:
        condition = inside(f":{name}w", f":{name}e")
    else:  # across the antimeridian: two boxes
        condition = f"({inside(f':{name}w', '180')} OR {inside('-180', f':{name}e')})"
    edges = {"s": box.south, "n": box.north, "w": box.west, "e": box.east}
    query.where(
        f"p.lat IS NOT NULL AND {condition}",
        **{name + edge: value for edge, value in edges.items()},
    )


def _count(conn: Connection, query: Query, cap: int) -> int:
    sql = f"SELECT count(*) FROM ({query.select('1')} LIMIT :cap) AS found"
    return int(conn.execute(text(sql), query.params | {"cap": cap}).scalar() or 0)


# The owner's photos (not trashed) whose text matches, read from the index: at most :scan.
_SUGGEST_DOCS = (
    "SELECT {columns} FROM photo_search s JOIN photos p ON p.doc_id = s.doc_id{join}"
    " WHERE s.owner_id = :owner AND s.document @@ CAST(:match AS tsquery)"
    " AND p.deleted_at IS NULL LIMIT :scan"
)
