"""What a search asks for, and the small query language that says it in one line.

``beach dog after:2019-06 before:2020 camera:"iphone 12" near:48.8566,2.3522,25km in:"Summer trip"``

Bare words match as prefixes anywhere in a photo's text; ``"quoted words"`` match as a phrase;
``-word`` excludes. ``key:value`` pairs set the same filters as the API's query parameters. A
mistake raises ``QuerySyntaxError`` with the position (0-based) of the problem.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from albumen.domain.errors import InvalidInput
from albumen.domain.media import media_named

# What one search may ask for and spend: a query of at most MAX_TERMS words and filters, and
# SEARCH_SECONDS of database work (a query that would need more answers query_too_costly).
MAX_TERMS = 32
SEARCH_SECONDS = 1.0
MAX_RADIUS_KM = 20_037.5  # half the Earth's circumference: every point is nearer than this
EARTH_RADIUS_KM = 6371.0088
_UNITS_KM = {"km": 1.0, "m": 0.001, "mi": 1.609344}


class QuerySyntaxError(InvalidInput):
    """A search query that cannot be read; ``position`` is where the problem starts."""

    code = "invalid_query"

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.details["position"] = position


class QueryTooLong(QuerySyntaxError):
    code = "query_too_long"


class SearchTooCostly(InvalidInput):
    """A search that ran out of its time budget (``SEARCH_SECONDS``) before it found its page."""

    code = "query_too_costly"

    def __init__(self) -> None:
        super().__init__(
            f"this search needs more than {SEARCH_SECONDS:g} s of work:"
            " use fewer words, or longer ones"
        )


class SearchOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    RELEVANCE = "relevance"


@dataclass(frozen=True, slots=True)
class Circle:
    lat: float
    lon: float
    radius_km: float

    def box(self) -> Box:
        """The latitude/longitude box around the circle (the whole band near a pole)."""
        dlat = math.degrees(self.radius_km / EARTH_RADIUS_KM)
        south, north = max(-90.0, self.lat - dlat), min(90.0, self.lat + dlat)
        cos_lat = math.cos(math.radians(max(abs(south), abs(north))))
        if north >= 90 or south <= -90 or cos_lat < 1e-9:
            return Box(south, -180.0, north, 180.0)
        dlon = math.degrees(self.radius_km / (EARTH_RADIUS_KM * cos_lat))
        if dlon >= 180:
            return Box(south, -180.0, north, 180.0)
        return Box(south, _wrap(self.lon - dlon), north, _wrap(self.lon + dlon))


@dataclass(frozen=True, slots=True)
class Box:
    """South-west to north-east corners; ``west > east`` crosses the antimeridian."""

    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True, slots=True)
class SearchFilters:
    words: tuple[str, ...] = ()  # prefixes, all of which must match
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    after: datetime | None = None  # inclusive
    before: datetime | None = None  # exclusive
    near: Circle | None = None
    within: Box | None = None
    cameras: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    filenames: tuple[str, ...] = ()
    people: tuple[str, ...] = ()  # all of them in the photo
    album: str | None = None  # an album id, or a name until the service resolves it
    favorite: bool | None = None
    archived: bool | None = None
    has_location: bool | None = None
    mimes: tuple[str, ...] = ()

    @property
    def has_text(self) -> bool:
        """Whether the text index has a say (the words, and the text-like filters)."""
        text = (self.words, self.phrases, self.cameras, self.tags, self.places, self.filenames)
        return any(text) or bool(self.people)

    @property
    def is_empty(self) -> bool:
        return self == SearchFilters()

    def merged(self, other: SearchFilters) -> SearchFilters:
        """These filters narrowed by ``other`` (tuples add up; ``other``'s single values win)."""
        changes: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, tuple):
                changes[name] = mine + theirs
            elif theirs is not None:
                changes[name] = theirs
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Token:
    position: int
    negated: bool
    key: str | None
    value: str
    quoted: bool


_TOKEN = re.compile(
    r"""(?P<neg>-)?(?:(?P<key>[A-Za-z_]+):)?(?:"(?P<quoted>[^"]*)(?P<close>")?|(?P<bare>[^\s"]*))"""
)


def tokens(query: str) -> Iterator[Token]:
    position = 0
    while position < len(query):
        if query[position].isspace():
            position += 1
            continue
        match = _TOKEN.match(query, position)
        assert match is not None  # the pattern matches the empty string
        if match["quoted"] is not None and match["close"] is None:
            raise QuerySyntaxError("a quote is not closed", match.start("quoted") - 1)
        value = match["quoted"] if match["quoted"] is not None else match["bare"]
        if not value and match["key"] is not None:
            raise QuerySyntaxError(f"{match['key']}: needs a value", position)
        if match.end() == position or (not value and match["quoted"] is None):
            raise QuerySyntaxError("unexpected character", position)
        yield Token(position, bool(match["neg"]), match["key"], value, match["quoted"] is not None)
        position = match.end()


def parse_query(query: str) -> SearchFilters:
    """The filters a query-language string asks for."""
    found = SearchFilters()
    for n, token in enumerate(tokens(query)):
        if n == MAX_TERMS:
            raise QueryTooLong(f"a query has at most {MAX_TERMS} words and filters", token.position)
        found = found.merged(_read(token))
    return found


def _read(token: Token) -> SearchFilters:
    if token.key is None:
        if token.negated:
            return SearchFilters(excluded=(token.value,))
        if token.quoted:
            return SearchFilters(phrases=(token.value,))
        return SearchFilters(words=(token.value,))
    reader = _KEYS.get(token.key.lower())
    if reader is None:
        raise QuerySyntaxError(_unknown_filter(token.key), token.position)
    if token.negated and token.key.lower() not in _NEGATABLE:
        raise QuerySyntaxError(f"{token.key}: cannot be negated", token.position)
    try:
        return reader(token.value, token.negated)
    except InvalidInput as err:
        raise QuerySyntaxError(f"{token.key}: {err.message}", token.position) from err


def parse_date(text: str) -> tuple[datetime, datetime]:
    """``2019``, ``2019-06`` or ``2019-06-14``: the start of that period and the next one."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text.strip())
    if match is None:
        raise InvalidInput(f"{text!r} is not a date like 2019, 2019-06 or 2019-06-14")
    year, month, day = int(match[1]), match[2], match[3]
    try:
        if month is None:
            return datetime(year, 1, 1), datetime(year + 1, 1, 1)
        start = datetime(year, int(month), int(day or 1))
    except ValueError as err:
        raise InvalidInput(f"{text!r} is not a real date") from err
    if day is not None:
        return start, datetime.fromordinal(start.toordinal() + 1)
    nxt = datetime(year + start.month // 12, start.month % 12 + 1, 1)
    return start, nxt


def parse_near(text: str) -> Circle:
    """``lat,lon`` or ``lat,lon,radius`` with the radius in km (default), m or mi."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) not in (2, 3):
        raise InvalidInput("near needs lat,lon or lat,lon,radius (e.g. 48.85,2.35,25km)")
    lat, lon = _number(parts[0], "latitude"), _number(parts[1], "longitude")
    radius = _radius(parts[2]) if len(parts) == 3 else 1.0
    return circle(lat, lon, radius)


def circle(lat: float, lon: float, radius_km: float) -> Circle:
    check_position(lat, lon)
    if not 0 < radius_km <= MAX_RADIUS_KM:
        raise InvalidInput(f"the radius must be above 0 and at most {MAX_RADIUS_KM} km")
    return Circle(lat, lon, radius_km)


def parse_box(text: str) -> Box:
    """``south,west,north,east`` in degrees."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 4:
        raise InvalidInput("bbox needs south,west,north,east (e.g. 48.8,2.2,48.9,2.5)")
    south, west, north, east = (_number(part, "coordinate") for part in parts)
    check_position(south, west)
    check_position(north, east)
    if south > north:
        raise InvalidInput("the south edge of the box is north of its north edge")
    return Box(south, west, north, east)


def check_position(lat: float, lon: float) -> None:
    if not -90 <= lat <= 90:
        raise InvalidInput(f"latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise InvalidInput(f"longitude {lon} is outside -180..180")


def _radius(text: str) -> float:
    match = re.fullmatch(r"(-?[\d.]+)\s*(km|m|mi)?", text.strip().lower())
    if match is None:
        raise InvalidInput(f"{text!r} is not a radius like 25km, 500m or 3mi")
    return _number(match[1], "radius") * _UNITS_KM[match[2] or "km"]


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a {what}") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{text!r} is not a {what}")
    return value


def _wrap(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


def _flag(name: str, values: dict[str, str]) -> Callable[[str, bool], SearchFilters]:
    def read(value: str, negated: bool) -> SearchFilters:
        target = values.get(value.lower())
        if target is None:
            raise InvalidInput(f"expected one of {', '.join(sorted(values))}")
        wanted: dict[str, Any] = {target: not negated}
        return SearchFilters(**wanted)

    read.__name__ = name
    return read


def _types(value: str, _negated: bool) -> SearchFilters:
    found = media_named(value)
    if not found:
        raise InvalidInput(f"{value!r} is not a type Albumen stores (e.g. jpeg, heic, png, raw)")
    return SearchFilters(mimes=tuple(media.mime for media in found))


_KEYS: dict[str, Callable[[str, bool], SearchFilters]] = {
    "after": lambda v, _n: SearchFilters(after=parse_date(v)[0]),
    "before": lambda v, _n: SearchFilters(before=parse_date(v)[0]),
    "on": lambda v, _n: SearchFilters(after=parse_date(v)[0], before=parse_date(v)[1]),
    "camera": lambda v, _n: SearchFilters(cameras=(v,)),
    "make": lambda v, _n: SearchFilters(cameras=(v,)),
    "model": lambda v, _n: SearchFilters(cameras=(v,)),
    "tag": lambda v, _n: SearchFilters(tags=(v,)),
    "place": lambda v, _n: SearchFilters(places=(v,)),
    "filename": lambda v, _n: SearchFilters(filenames=(v,)),
    "person": lambda v, _n: SearchFilters(people=(v,)),
    "in": lambda v, _n: SearchFilters(album=v),
    "album": lambda v, _n: SearchFilters(album=v),
    "near": lambda v, _n: SearchFilters(near=parse_near(v)),
    "bbox": lambda v, _n: SearchFilters(within=parse_box(v)),
    "type": _types,
    "is": _flag("is", {"favorite": "favorite", "favourite": "favorite", "archived": "archived"}),
    "has": _flag("has", {"location": "has_location", "gps": "has_location"}),
}
_NEGATABLE = {"is", "has"}
# Filters people type that the language spells otherwise, and what does it.
_MEANT = {
    **dict.fromkeys(("favorite", "favourite", "favorites", "fav", "starred"), "is:favorite"),
    **dict.fromkeys(("archived", "archive", "hidden"), "is:archived"),
    **dict.fromkeys(("location", "gps", "geo", "located"), "has:location"),
    **dict.fromkeys(("date", "year", "month", "day", "taken", "when"), "on:2019-06"),
    **dict.fromkeys(("since", "from"), "after:2019"),
    **dict.fromkeys(("until", "till", "to"), "before:2020"),
    **dict.fromkeys(("people", "face", "faces", "who"), "person:Anna"),
    **dict.fromkeys(("city", "country", "where", "town"), "place:Paris"),
    **dict.fromkeys(("file", "name", "path"), "filename:IMG_1234"),
    **dict.fromkeys(("kind", "format", "mime", "ext", "extension"), "type:heic"),
    **dict.fromkeys(("label", "labels", "tags", "keyword", "keywords"), "tag:dog"),
    **dict.fromkeys(("folder", "albums"), "album:Holidays"),
    **dict.fromkeys(("lens", "phone", "device"), "camera:iphone"),
}
_EXAMPLES = "after:2019, on:2019-06, camera:, tag:, place:, person:, album:, type:, is:favorite"


def _unknown_filter(key: str) -> str:
    """What to say of ``key:``, which is no filter: the one meant, where it can be told."""
    meant = _MEANT.get(key.lower())
    if meant is None:
        close = difflib.get_close_matches(key.lower(), _KEYS, n=1, cutoff=0.75)
        meant = f"{close[0]}:" if close else None
    if meant is not None:
        return f"there is no “{key}:” filter; did you mean {meant}?"
    return f"there is no “{key}:” filter; filters are like {_EXAMPLES} (or leave out the colon)"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What the search box offers for a word being typed: a place, a camera, a person, an
    album, a tag or a filter, with the query text that finds it."""

    kind: str
    label: str
    query: str


# Filters of the query language that the box offers by their start ("aft" -> "after:").
FILTER_SUGGESTIONS = (
    Suggestion("filter", "favorites", "is:favorite"),
    Suggestion("filter", "archived", "is:archived"),
    Suggestion("filter", "has a location", "has:location"),
    Suggestion("filter", "after a date", "after:"),
    Suggestion("filter", "before a date", "before:"),
    Suggestion("filter", "on a day", "on:"),
    Suggestion("filter", "a camera", "camera:"),
    Suggestion("filter", "a place", "place:"),
    Suggestion("filter", "a person", "person:"),
    Suggestion("filter", "in an album", "in:"),
    Suggestion("filter", "a tag", "tag:"),
    Suggestion("filter", "a type (jpeg, heic, png, raw)", "type:"),
    Suggestion("filter", "a file name", "filename:"),
    Suggestion("filter", "near a point", "near:"),
)


def quoted(value: str) -> str:
    """A filter value as the query language reads it back: quoted when it has a space."""
    clean = value.replace('"', "")
    return f'"{clean}"' if any(c.isspace() for c in clean) else clean
