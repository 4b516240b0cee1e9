"""``SqliteSearchIndex``: search on SQLite with FTS5 for text and an R*Tree for geography.

Both index a photo under its ``doc_id``, the timeline order, so a text search walks the FTS
index newest first and stops as soon as a page is full. Each query is driven from the most
selective index it has (an album, the text index, the R*Tree when the area holds few photos, or
the owner's timeline) and the other filters are checked on the rows it yields.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from albumen.adapters.db.search.core import (
    NEAR_TERMS,
    Query,
    TextMatch,
    after_cursor,
    day_counts,
    doc_range,
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
from albumen.domain.photos import Page, TimelineCursor
from albumen.domain.search import (
    SEARCH_SECONDS,
    Box,
    SearchFilters,
    SearchOrder,
    SearchTooCostly,
    Suggestion,
)

# An area holding fewer photos than this is searched through the R*Tree: its ids are read and
# sorted (ids only: cheap), then photos are looked up newest first until the page is full.
GEO_DRIVE_LIMIT = 50_000
_GEO_CHUNK = 256
_STEPS = 10_000  # SQLite's virtual machine steps between two looks at the search's clock
_WEIGHTS = (
    "bm25(photo_fts, 1.0, 3.0, 4.0, 2.0, 4.0, 3.0, 0.0, 4.0)"  # the columns' say in relevance
)


class SqliteSearchIndex:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
        """A page of results and, when ``count_cap`` is given and there is more than a page,
        how many match (counting no further than the cap)."""
        with self.budgeted(owner_id) as conn:
            query = self._query(conn, owner_id, filters, album_ids, order)
            total = _count(conn, replace(query), count_cap) if count_cap else None
            after_cursor(query, order, after)
            if query.area is not None:
                ids, ranks = _from_area(conn, query, order, limit + 1), None
            else:
                score = f", {query.score} AS score" if query.score else ""
                sql = query.select(f"p.id{score}") + f" ORDER BY {query.order} LIMIT :limit"
                rows = conn.execute(text(sql), query.params | {"limit": limit + 1}).all()
                ids = [row.id for row in rows]
                ranks = [row.score for row in rows] if query.score else None
            found = in_order(conn, ids)
        return paged(found, limit, ranks), total

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
            query = _in_area(self._query(conn, owner_id, filters, album_ids, SearchOrder.NEWEST))
            day = f"substr(date(coalesce(p.taken_local, p.sort_at)), 1, {width})"
            sql = f"{query.select(f'{day} AS k, count(*)')} GROUP BY k ORDER BY k DESC"
            return [(k, int(n)) for k, n in conn.execute(text(sql), query.params)]

    def suggest(self, owner_id: str, prefix: str, limit: int) -> list[Suggestion]:
        """What the owner's library has that starts with ``prefix`` (``core.suggest``), found
        through the FTS5 prefix indexes of each column."""
        word = fold(prefix)
        if not has_token(word):
            return []
        phrase = _phrase(word)
        found_by = TextMatch(_SUGGEST_DOCS, lambda column: f"{column} : {phrase} *", "LIKE", word)
        with self.budgeted(owner_id) as conn:
            return suggest(conn, owner_id, word, limit, found_by)

    def explain(
        self, owner_id: str, filters: SearchFilters, album_ids: Sequence[str] | None
    ) -> list[str]:
        """SQLite's plan for a search (for the benchmark's record of index use)."""
        with self._engine.connect() as conn:
            query = self._query(conn, owner_id, filters, album_ids, SearchOrder.NEWEST)
            steps = []
            if query.area is not None:
                steps.append("R*Tree ids of the area, sorted; then photos by doc_id in chunks:")
                query.where("p.doc_id IN (0)")
            sql = f"EXPLAIN QUERY PLAN {query.select('p.id')} ORDER BY {query.order} LIMIT 101"
            return steps + [row[3] for row in conn.execute(text(sql), query.params)]

    @contextmanager
    def budgeted(self, _owner_id: str) -> Iterator[Connection]:
        """A connection whose statements stop (``SearchTooCostly``) once the search has run
        ``SEARCH_SECONDS``: SQLite calls the progress handler every few thousand steps."""
        with self._engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            deadline = time.monotonic() + SEARCH_SECONDS
            raw.set_progress_handler(lambda: time.monotonic() > deadline, _STEPS)
            try:
                yield conn
            except OperationalError as err:
                if "interrupted" in str(err.orig):
                    raise SearchTooCostly() from err
                raise
            finally:
                raw.set_progress_handler(None, 0)

    def _query(
        self,
        conn: Connection,
        owner_id: str,
        filters: SearchFilters,
        album_ids: Sequence[str] | None,
        order: SearchOrder,
    ) -> Query:
        match = self._match(conn, owner_id, filters, album_ids)
        query = _driver(conn, filters, match, order)
        query.where("p.owner_id = :owner AND p.deleted_at IS NULL", owner=owner_id)
        _row_filters(query, filters)
        if filters.excluded and match is None:
            query.where(
                "p.doc_id NOT IN (SELECT rowid FROM photo_fts WHERE photo_fts MATCH :ex)",
                ex=_any_of(filters.excluded),
            )
        return query

    def _match(
        self,
        conn: Connection,
        owner_id: str,
        filters: SearchFilters,
        album_ids: Sequence[str] | None,
    ) -> str | None:
        """The FTS5 query: the words, the text-like filters and the albums, all required."""
        parts = [_word(conn, owner_id, word) for word in filters.words]
        parts += [_phrase(p) for p in filters.phrases]
        for column, values in (
            ("camera", filters.cameras),
            ("tags", filters.tags),
            ("place", filters.places),
            ("filename", filters.filenames),
            ("people", filters.people),
        ):
            parts += [f"{column} : {_phrase(value)}" for value in values]
        if album_ids is not None:  # an album is its photos' album_ids token (no dashes)
            tokens = " OR ".join(_phrase(album_id.replace("-", "")) for album_id in album_ids)
            parts.append(f"album_ids : ({tokens})")
        parts = [part for part in parts if part]
        if not parts:
            return None
        match = " AND ".join(parts)
        if filters.excluded:
            match = f"({match}) NOT ({_any_of(filters.excluded)})"
        return match


def _word(conn: Connection, owner_id: str, word: str) -> str:
    """A word as a prefix; a word that starts none of the owner's words also matches those
    of their words one typo away (a letter changed, added, dropped or swapped). Only the
    owner's vocabulary is asked: what others have never changes the work or the answer."""
    if not has_token(word):
        return ""
    prefix = f"{_phrase(word)}*"
    folded = fold(word)
    if not may_be_mistyped(folded) or _starts_a_term(conn, owner_id, folded):
        return prefix
    near = _known_terms(conn, owner_id, one_typo(folded))
    return f"({' OR '.join([prefix, *map(_phrase, near)])})" if near else prefix


def _driver(
    conn: Connection, filters: SearchFilters, match: str | None, order: SearchOrder
) -> Query:
    if match is not None:
        query = Query("photo_fts f CROSS JOIN photos p ON p.doc_id = f.rowid")
        query.where("photo_fts MATCH :match", match=match)
        if order is SearchOrder.RELEVANCE:
            query.score, query.order = _WEIGHTS, f"{_WEIGHTS}, f.rowid DESC"
        else:
            query.order = "f.rowid DESC" if order is SearchOrder.NEWEST else "f.rowid"
        doc_range(query, filters, "f.rowid")
        return query
    if (area := _area(filters)) is not None and _few_in(conn, area):
        query = Query("photos p", area=area)
    else:
        query = Query(f"photos p INDEXED BY {_walk_index(filters)}")
    if order is SearchOrder.OLDEST:
        query.order = "p.doc_id"
    doc_range(query, filters, "p.doc_id")
    return query


def _walk_index(filters: SearchFilters) -> str:
    """The index to walk newest first when no other index drives the search."""
    if filters.favorite:
        return "ix_photos_favorite"
    if filters.archived:
        return "ix_photos_archived"
    if len(filters.mimes) == 1:
        return "ix_photos_mime"
    return "ix_photos_timeline"


def _from_area(conn: Connection, query: Query, order: SearchOrder, wanted: int) -> list[str]:
    """Photo ids of a search driven from the R*Tree: the area's doc ids sorted (no table
    access), then their photos checked against every filter, a chunk at a time."""
    assert query.area is not None
    sql = f"SELECT doc_id FROM photo_geo WHERE {_GEO_BOX} AND {_lon_overlap(query.area)}"
    doc_ids = sorted(
        conn.execute(text(sql), _geo_params(query.area)).scalars(),
        reverse=order is not SearchOrder.OLDEST,
    )
    found: list[str] = []
    for start in range(0, len(doc_ids), _GEO_CHUNK):
        chunk = ", ".join(str(int(doc_id)) for doc_id in doc_ids[start : start + _GEO_CHUNK])
        page = f"{query.select('p.id')} AND p.doc_id IN ({chunk}) ORDER BY {query.order}"
        found += conn.execute(text(page), query.params).scalars()
        if len(found) >= wanted:
            break
    return found[:wanted]


def _count(conn: Connection, query: Query, cap: int) -> int:
    query = _in_area(query)
    sql = f"SELECT count(*) FROM ({query.select('1')} LIMIT :cap)"
    return int(conn.execute(text(sql), query.params | {"cap": cap}).scalar() or 0)


def _in_area(query: Query) -> Query:
    """An R*Tree-driven query as one SQL statement (for counts, where order does not matter)."""
    if query.area is not None:
        query.where(
            f"p.doc_id IN (SELECT doc_id FROM photo_geo WHERE {_GEO_BOX}"
            f" AND {_lon_overlap(query.area)})",
            **_geo_params(query.area),
        )
        query.area = None
    return query


def _row_filters(query: Query, filters: SearchFilters) -> None:
    flag_filters(query, filters)
    if filters.within is not None:
        _in_box(query, filters.within, "w")
    if filters.near is not None:
        _in_box(query, filters.near.box(), "n")
        within_circle(query, filters.near, "min")


def _in_box(query: Query, box: Box, name: str) -> None:
    lon = (
        "(p.lon >= :{n}w AND p.lon <= :{n}e)"
        if box.west <= box.east
        else ("(p.lon >= :{n}w OR p.lon <= :{n}e)")
    )
    edges = {"s": box.south, "n": box.north, "w": box.west, "e": box.east}
    query.where(
        f"p.lat >= :{name}s AND p.lat <= :{name}n AND " + lon.format(n=name),
        **{name + edge: value for edge, value in edges.items()},
    )


def _area(filters: SearchFilters) -> Box | None:
    if filters.near is not None:
        return filters.near.box()
    return filters.within


def _lon_overlap(box: Box) -> str:
    if box.west <= box.east:
        return "max_lon >= :gw AND min_lon <= :ge"
    return "(max_lon >= :gw OR min_lon <= :ge)"


_GEO_BOX = "max_lat >= :gs AND min_lat <= :gn"


def _geo_params(area: Box) -> dict[str, float]:
    return {"gs": area.south, "gn": area.north, "gw": area.west, "ge": area.east}


def _few_in(conn: Connection, area: Box) -> bool:
    """Whether fewer than ``GEO_DRIVE_LIMIT`` photos (of anyone) lie in the area."""
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM photo_geo WHERE {_GEO_BOX}"
        f" AND {_lon_overlap(area)} LIMIT :cap)"
    )
    params = _geo_params(area) | {"cap": GEO_DRIVE_LIMIT}
    return int(conn.execute(text(sql), params).scalar() or 0) < GEO_DRIVE_LIMIT


# The owner's photos (not trashed) whose text matches, read from the index: at most :scan.
_SUGGEST_DOCS = (
    "SELECT {columns} FROM photo_fts f JOIN photos p ON p.doc_id = f.rowid{join}"
    " WHERE photo_fts MATCH :match AND p.owner_id = :owner AND p.deleted_at IS NULL"
    " LIMIT :scan"
)


def _phrase(value: str) -> str:
    """A value as an FTS5 string: every character literal, nothing an operator."""
    return '"' + value.replace('"', '""') + '"'


def _any_of(values: Sequence[str]) -> str:
    parts = [_phrase(value) for value in values if has_token(value)]
    return " OR ".join(parts) or '""'


def _starts_a_term(conn: Connection, owner_id: str, prefix: str) -> bool:
    sql = (
        "SELECT 1 FROM search_terms WHERE owner_id = :owner"
        " AND term >= :low AND term < :high LIMIT 1"
    )
    params = {"owner": owner_id, "low": prefix, "high": prefix + "\U0010ffff"}
    return conn.execute(text(sql), params).first() is not None


def _known_terms(conn: Connection, owner_id: str, candidates: set[str]) -> list[str]:
    """Which of the candidates are the owner's words: one lookup in their vocabulary."""
    sql = (
        "SELECT term FROM search_terms WHERE owner_id = :owner"
        " AND term IN (SELECT value FROM json_each(:candidates)) ORDER BY term LIMIT :most"
    )
    params = {"owner": owner_id, "candidates": json.dumps(sorted(candidates)), "most": NEAR_TERMS}
    return list(conn.execute(text(sql), params).scalars())
