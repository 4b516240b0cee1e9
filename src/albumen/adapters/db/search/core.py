"""What both search indexes share: the pieces of a query, paging, filters written once, the
typo expansion's candidates and the suggestions (``suggest``, over a dialect's own text match).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from albumen.adapters.db.photos import photo_query, photo_rows
from albumen.adapters.db.search.words import fold
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

_WORD = re.compile(r"^[0-9a-z]+$")
# A word is also looked for a typo away when it is 3 to 24 letters: a longer one is not a word
# a person mistyped, and its 74 candidates per letter would cost more than they could find.
TYPO_SHORTEST, TYPO_LONGEST = 3, 24
NEAR_TERMS = 8  # the most words a typo away that one word also matches
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


def doc_range(query: Query, filters: SearchFilters, column: str) -> None:
    low, high = sort_key_bounds(filters.after, filters.before)
    if low is not None:
        query.where(f"{column} >= :low", low=low)
    if high is not None:
        query.where(f"{column} < :high", high=high)


def after_cursor(query: Query, order: SearchOrder, after: TimelineCursor | None) -> None:
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


def flag_filters(query: Query, filters: SearchFilters) -> None:
    """The filters on a photo's own columns, written alike for SQLite and PostgreSQL."""
    for column, wanted in (("favorite", filters.favorite), ("archived", filters.archived)):
        if wanted is not None:  # written as the partial indexes are, so that they apply
            query.where(f"p.{column}" if wanted else f"NOT p.{column}")
    if filters.has_location is not None:
        query.where(f"p.lat IS {'NOT ' if filters.has_location else ''}NULL")
    if filters.mimes:
        names = {f"mime{n}": mime for n, mime in enumerate(filters.mimes)}
        query.where(f"p.mime IN ({', '.join(':' + name for name in names)})", **names)


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


def in_order(conn: Connection, keys: Sequence[str | int], by: str = "id") -> list[Photo]:
    """The photos whose ``by`` (``id``, or ``doc_id``) is one of ``keys``, in their order."""
    if not keys:
        return []
    found = photo_rows(conn, photo_query().where(photos.c[by].in_(keys)))
    by_key = {getattr(photo, by): photo for photo in found}
    return [by_key[key] for key in keys if key in by_key]


SUGGEST_SCAN = 300


def place_names(places: Sequence[Any], word: str) -> list[str]:
    """Of each place row, the name (city, region or country) the word starts, or is in."""
    return [
        next((n for n in (r.city, r.region, r.country) if fold(n).startswith(word)), "")
        or next((n for n in (r.city, r.region, r.country) if word in fold(n)), r.city)
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
    return ranked("album", [r.name for r in albums_found], word, "in") + ranked(
        "person", [r.name for r in people_found], word, "person"
    )


def ranked(kind: str, values: Sequence[str], word: str, key: str) -> list[Suggestion]:
    """Distinct non-empty values, most frequent first, those starting with the word before
    those that only have a word starting with it; at most five of a kind."""
    counts = Counter(v for v in values if v)
    order = sorted(counts, key=lambda v: (not fold(v).startswith(word), -counts[v], v.lower()))
    return [Suggestion(kind, value, f"{key}:{quoted(value)}") for value in order[:5]]


def has_token(value: str) -> bool:
    return any(char.isalnum() for char in value)


def may_be_mistyped(word: str) -> bool:
    """Whether a folded word is one to look for a typo away, when it starts none of the
    owner's words."""
    return TYPO_SHORTEST <= len(word) <= TYPO_LONGEST and _WORD.match(word) is not None


def one_typo(word: str) -> set[str]:
    """Every string one edit from ``word``: a letter deleted, swapped, changed or added."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    inserts = {a + c + b for a, b in splits for c in _ALPHABET}
    return (deletes | swaps | changes | inserts) - {word}


@dataclass(frozen=True, slots=True)
class TextMatch:
    """How one dialect finds the owner's photos with a word starting the typed prefix."""

    docs: str  # their SQL: {columns} and {join} to fill; :owner, :match and :scan to bind
    match: Callable[[str], str]  # the :match of one column ("camera", "place", "tags")
    like: str  # the dialect's case-blind LIKE
    pattern: str  # the typed word, as that LIKE reads it


def suggest(
    conn: Connection, owner_id: str, word: str, limit: int, found_by: TextMatch
) -> list[Suggestion]:
    """Cameras, places and tags of the owner's photos, and their albums and people, with a
    word that starts with ``word`` (folded); each kind reads at most ``SUGGEST_SCAN`` photos
    from the text index, so a large library answers as fast; then the filters it starts."""

    def docs(column: str, columns: str, join: str = "") -> list[Any]:
        sql = found_by.docs.format(columns=columns, join=join)
        params = {"owner": owner_id, "match": found_by.match(column), "scan": SUGGEST_SCAN}
        return list(conn.execute(text(sql), params).all())

    cameras = docs("camera", "p.make, p.model")
    found = ranked("camera", [(r.model or r.make or "").strip() for r in cameras], word, "camera")
    places = docs("place", "c.city, c.region, c.country", " JOIN places c ON c.id = p.place_id")
    found += ranked("place", place_names(places, word), word, "place")
    tagged = conn.execute(
        text(
            "SELECT t.tag FROM photo_tags t WHERE t.tag >= :low AND t.tag < :high"
            " AND t.photo_id IN (" + found_by.docs.format(columns="p.id", join="") + ")"
        ),
        {
            "owner": owner_id,
            "match": found_by.match("tags"),
            "scan": SUGGEST_SCAN,
            "low": word,
            "high": word + "\U0010ffff",
        },
    ).all()
    found += ranked("tag", [r.tag for r in tagged], word, "tag")
    found += named_suggestions(conn, owner_id, word, found_by.like, found_by.pattern)
    return (found + filter_suggestions(word))[:limit]


def filter_suggestions(word: str) -> list[Suggestion]:
    """The query language's filters that start with the word (``is:favorite`` for ``is:f``)."""
    return [f for f in FILTER_SUGGESTIONS if f.query.startswith(word)]
