"""``SqliteSearchIndex``: search on SQLite with FTS5 for text and an R*Tree for geography.

Both index a photo under its ``doc_id``, the timeline order, so a text search walks the FTS
index newest first and stops as soon as a page is full. Each query is driven from the most
selective index it has (an album, the text index, the R*Tree when the area holds few photos, or
the owner's timeline) and the other filters are checked on the rows it yields.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine, text

from albumen.adapters.db.photos import photo_query, photo_rows
from albumen.adapters.db.tables import photos
from albumen.domain.photos import Page, Photo, TimelineCursor, sort_key_bounds
from albumen.domain.search import (
    EARTH_RADIUS_KM,
    FILTER_SUGGESTIONS,
    Box,
    Circle,
    SearchFilters,
    SearchOrder,
    Suggestion,
    quoted,
)

# An area holding fewer photos than this is searched through the R*Tree: its ids are read and
# sorted (ids only: cheap), then photos are looked up newest first until the page is full.
GEO_DRIVE_LIMIT = 50_000
_GEO_CHUNK = 256
_WEIGHTS = (
    "bm25(photo_fts, 1.0, 3.0, 4.0, 2.0, 4.0, 3.0, 0.0, 4.0)"  # the columns' say in relevance
)
_WORD = re.compile(r"^[0-9a-z]+$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Query:
    """The pieces of one search's SQL."""

    source: str
    conditions: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    order: str = "p.doc_id DESC"
    score: str | None = None
    area: Box | None = None  # drive from the R*Tree ids of this area

    @property
    def key(self) -> str:
        """The column that orders results by date (and that cursors compare)."""
        if self.source.startswith("photo_fts"):
            return "f.rowid"
        return "s.doc_id" if self.source.startswith("photo_search") else "p.doc_id"

    def __post_init__(self) -> None:
        self.conditions, self.params = list(self.conditions), dict(self.params)

    def where(self, condition: str, **params: Any) -> None:
        self.conditions.append(condition)
        self.params.update(params)

    def select(self, columns: str) -> str:
        where = " AND ".join(self.conditions) or "1"
        return f"SELECT {columns} FROM {self.source} WHERE {where}"


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
        with self._engine.connect() as conn:
            query = self._query(conn, owner_id, filters, album_ids, order)
            total = _count(conn, replace(query), count_cap) if count_cap else None
            _after(query, order, after)
            if query.area is not None:
                ids, ranks = _from_area(conn, query, order, limit + 1), None
            else:
                score = f", {query.score} AS score" if query.score else ""
                sql = query.select(f"p.id{score}") + f" ORDER BY {query.order} LIMIT :limit"
                rows = conn.execute(text(sql), query.params | {"limit": limit + 1}).all()
                ids = [row.id for row in rows]
                ranks = [row.score for row in rows] if query.score else None
            found = _in_order(conn, ids)
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
        with self._engine.connect() as conn:
            if filters is None:
                return day_counts(conn, owner_id, width)
            query = _in_area(self._query(conn, owner_id, filters, album_ids, SearchOrder.NEWEST))
            day = f"substr(date(coalesce(p.taken_local, p.sort_at)), 1, {width})"
            sql = f"{query.select(f'{day} AS k, count(*)')} GROUP BY k ORDER BY k DESC"
            return [(k, int(n)) for k, n in conn.execute(text(sql), query.params)]

    def suggest(self, owner_id: str, prefix: str, limit: int) -> list[Suggestion]:
        """Cameras, places and tags of the owner's photos, and their albums and people, with a
        word that starts with ``prefix``. Each kind reads at most ``SUGGEST_SCAN`` matching
        photos from the text index (prefix indexes), so a large library answers as fast."""
        word = _fold(prefix)
        if not _has_token(word):
            return []
        match = "{column} : " + _phrase(word) + " *"
        found: list[Suggestion] = []
        with self._engine.connect() as conn:
            cameras = conn.execute(
                text(_SUGGEST_DOCS.format(columns="p.make, p.model", join="")),
                {"owner": owner_id, "match": match.format(column="camera"), "scan": SUGGEST_SCAN},
            ).all()
            found += _ranked(
                "camera", [(r.model or r.make or "").strip() for r in cameras], word, "camera"
            )
            places = conn.execute(
                text(
                    _SUGGEST_DOCS.format(
                        columns="c.city, c.region, c.country",
                        join=" JOIN places c ON c.id = p.place_id",
                    )
                ),
                {"owner": owner_id, "match": match.format(column="place"), "scan": SUGGEST_SCAN},
            ).all()
            found += _ranked("place", _place_names(places, word), word, "place")
            tagged = conn.execute(
                text(
                    "SELECT t.tag FROM photo_tags t WHERE t.tag >= :low AND t.tag < :high"
                    " AND t.photo_id IN (" + _SUGGEST_DOCS.format(columns="p.id", join="") + ")"
                ),
                {
                    "owner": owner_id,
                    "match": match.format(column="tags"),
                    "scan": SUGGEST_SCAN,
                    "low": word,
                    "high": word + "\U0010ffff",
                },
            ).all()
            found += _ranked("tag", [r.tag for r in tagged], word, "tag")
            found += named_suggestions(conn, owner_id, word, "LIKE", word)
        filters = [f for f in FILTER_SUGGESTIONS if f.query.startswith(word)]
        return (found + filters)[:limit]

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

    def _query(
        self,
        conn: Connection,
        owner_id: str,
        filters: SearchFilters,
        album_ids: Sequence[str] | None,
        order: SearchOrder,
    ) -> Query:
        match = self._match(conn, filters, album_ids)
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
        self, conn: Connection, filters: SearchFilters, album_ids: Sequence[str] | None
    ) -> str | None:
        """The FTS5 query: the words, the text-like filters and the albums, all required."""
        parts = [self._word(conn, word) for word in filters.words]
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

    def _word(self, conn: Connection, word: str) -> str:
        """A word as a prefix; a word that starts no indexed term also matches the terms one
        typo away from it (a letter changed, added, dropped or swapped)."""
        if not _has_token(word):
            return ""
        prefix = f"{_phrase(word)}*"
        folded = _fold(word)
        if len(folded) < 3 or not _WORD.match(folded) or _starts_a_term(conn, folded):
            return prefix
        near = _known_terms(conn, _one_typo(folded))
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
        _doc_range(query, filters, "f.rowid")
        return query
    if (area := _area(filters)) is not None and _few_in(conn, area):
        query = Query("photos p", area=area)
    else:
        query = Query(f"photos p INDEXED BY {_walk_index(filters)}")
    if order is SearchOrder.OLDEST:
        query.order = "p.doc_id"
    _doc_range(query, filters, "p.doc_id")
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


def _doc_range(query: Query, filters: SearchFilters, column: str) -> None:
    low, high = sort_key_bounds(filters.after, filters.before)
    if low is not None:
        query.where(f"{column} >= :low", low=low)
    if high is not None:
        query.where(f"{column} < :high", high=high)


def _after(query: Query, order: SearchOrder, after: TimelineCursor | None) -> None:
    if after is None:
        return
    column = query.key
    if order is SearchOrder.RELEVANCE and query.score and after.rank is not None:
        query.where(
            f"({query.score} > :rank OR ({query.score} = :rank AND {column} < :cursor))",
            rank=after.rank,
            cursor=after.doc_id,
        )
    elif order is SearchOrder.OLDEST:
        query.where(f"{column} > :cursor", cursor=after.doc_id)
    else:
        query.where(f"{column} < :cursor", cursor=after.doc_id)


def paged(found: list[Photo], limit: int, ranks: list[float] | None) -> Page:
    """A page of what a search found (``limit + 1`` asked: the extra one says there is more),
    its cursor the last photo's timeline key, and its rank when ordered by relevance."""
    if len(found) <= limit:
        return Page(found, None)
    found = found[:limit]
    rank = ranks[limit - 1] if ranks else None
    return Page(found, TimelineCursor(found[-1].doc_id, rank))


def day_counts(conn: Connection, owner_id: str, width: int) -> list[tuple[str, int]]:
    """The timeline's photos per day (``width`` 10) or month (7), newest first, from the day
    counts the triggers keep."""
    sql = (
        f"SELECT substr(day, 1, {width}) AS k, sum(count) FROM timeline_days "
        "WHERE owner_id = :owner GROUP BY k ORDER BY k DESC"
    )
    return [(k, int(n)) for k, n in conn.execute(text(sql), {"owner": owner_id})]


def _flag_filters(query: Query, filters: SearchFilters) -> None:
    """The filters on a photo's own columns, written alike for SQLite and PostgreSQL."""
    for column, wanted in (("favorite", filters.favorite), ("archived", filters.archived)):
        if wanted is not None:  # written as the partial indexes are, so that they apply
            query.where(f"p.{column}" if wanted else f"NOT p.{column}")
    if filters.has_location is not None:
        query.where(f"p.lat IS {'NOT ' if filters.has_location else ''}NULL")
    if filters.mimes:
        names = {f"mime{n}": mime for n, mime in enumerate(filters.mimes)}
        query.where(f"p.mime IN ({', '.join(':' + name for name in names)})", **names)


def _row_filters(query: Query, filters: SearchFilters) -> None:
    _flag_filters(query, filters)
    if filters.within is not None:
        _in_box(query, filters.within, "w")
    if filters.near is not None:
        _in_box(query, filters.near.box(), "n")
        within_circle(query, filters.near, "min")


def within_circle(query: Query, near: Circle, least: str) -> None:
    """The photos within the circle, by the haversine distance (``least``: the dialect's
    smaller-of-two function, ``min`` in SQLite and ``least`` in PostgreSQL)."""
    query.where(
        f"2 * {EARTH_RADIUS_KM} * asin({least}(1, sqrt("
        "power(sin(radians(p.lat - :nlat) / 2), 2) + cos(radians(:nlat)) * "
        "cos(radians(p.lat)) * power(sin(radians(p.lon - :nlon) / 2), 2)))) <= :nradius",
        nlat=near.lat,
        nlon=near.lon,
        nradius=near.radius_km,
    )


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


def _in_order(conn: Connection, keys: Sequence[str | int], by: str = "id") -> list[Photo]:
    """The photos whose ``by`` (``id``, or ``doc_id``) is one of ``keys``, in their order."""
    if not keys:
        return []
    found = photo_rows(conn, photo_query().where(photos.c[by].in_(keys)))
    by_key = {getattr(photo, by): photo for photo in found}
    return [by_key[key] for key in keys if key in by_key]


SUGGEST_SCAN = 300
# The owner's photos (not trashed) whose text matches, read from the index: at most :scan.
_SUGGEST_DOCS = (
    "SELECT {columns} FROM photo_fts f JOIN photos p ON p.doc_id = f.rowid{join}"
    " WHERE photo_fts MATCH :match AND p.owner_id = :owner AND p.deleted_at IS NULL"
    " LIMIT :scan"
)


def _place_names(places: Sequence[Any], word: str) -> list[str]:
    """Of each place row, the name (city, region or country) the word starts, or is in."""
    return [
        next((n for n in (r.city, r.region, r.country) if _fold(n).startswith(word)), "")
        or next((n for n in (r.city, r.region, r.country) if word in _fold(n)), r.city)
        for r in places
    ]


def named_suggestions(
    conn: Connection, owner_id: str, word: str, like: str, pattern: str
) -> list[Suggestion]:
    """The owner's albums and people with a word starting with ``pattern`` (``like``: the
    dialect's case-blind operator; ``pattern``: the word, escaped for it)."""
    params = {"owner": owner_id, "start": f"{pattern}%", "inside": f"% {pattern}%"}
    albums_found = conn.execute(
        text(
            f"SELECT name FROM albums WHERE owner_id = :owner"
            f" AND (name {like} :start OR name {like} :inside) ORDER BY name LIMIT 20"
        ),
        params,
    ).all()
    people_found = conn.execute(
        text(
            f"SELECT name FROM people WHERE owner_id = :owner AND NOT hidden AND name IS NOT NULL"
            f" AND (name {like} :start OR name {like} :inside) ORDER BY name LIMIT 20"
        ),
        params,
    ).all()
    return _ranked("album", [r.name for r in albums_found], word, "in") + _ranked(
        "person", [r.name for r in people_found], word, "person"
    )


def _ranked(kind: str, values: Sequence[str], word: str, key: str) -> list[Suggestion]:
    """Distinct non-empty values, most frequent first, those starting with the word before
    those that only have a word starting with it; at most five of a kind."""
    counts = Counter(v for v in values if v)
    order = sorted(counts, key=lambda v: (not _fold(v).startswith(word), -counts[v], v.lower()))
    return [Suggestion(kind, value, f"{key}:{quoted(value)}") for value in order[:5]]


def _phrase(value: str) -> str:
    """A value as an FTS5 string: every character literal, nothing an operator."""
    return '"' + value.replace('"', '""') + '"'


def _any_of(values: Sequence[str]) -> str:
    parts = [_phrase(value) for value in values if _has_token(value)]
    return " OR ".join(parts) or '""'


def _has_token(value: str) -> bool:
    return any(char.isalnum() for char in value)


def _fold(word: str) -> str:
    """Lower case without accents, as the index's tokenizer sees words."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _starts_a_term(conn: Connection, prefix: str) -> bool:
    sql = "SELECT 1 FROM photo_fts_vocab WHERE term >= :low AND term < :high LIMIT 1"
    params = {"low": prefix, "high": prefix + "\U0010ffff"}
    return conn.execute(text(sql), params).first() is not None


def _known_terms(conn: Connection, candidates: set[str]) -> list[str]:
    sql = "SELECT term FROM photo_fts_vocab WHERE term = :term"
    return sorted(term for term in candidates if conn.execute(text(sql), {"term": term}).first())[
        :8
    ]


def _one_typo(word: str) -> set[str]:
    """Every string one edit from ``word``: a letter deleted, swapped, changed or added."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    inserts = {a + c + b for a, b in splits for c in _ALPHABET}
    return (deletes | swaps | changes | inserts) - {word}
