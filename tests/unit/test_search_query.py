"""The search query language: what it reads, and where it says a query is wrong."""

from __future__ import annotations

from datetime import datetime

import pytest

from albumen.domain.photos import sort_key, sort_key_bounds
from albumen.domain.search import Circle, QuerySyntaxError, SearchFilters, parse_query


def test_the_example_of_the_docs() -> None:
    found = parse_query(
        'beach dog after:2019-06 before:2020 camera:"iphone 12" '
        'near:48.8566,2.3522,25km in:"Summer trip"'
    )
    assert found == SearchFilters(
        words=("beach", "dog"),
        after=datetime(2019, 6, 1),
        before=datetime(2020, 1, 1),
        cameras=("iphone 12",),
        near=Circle(48.8566, 2.3522, 25.0),
        album="Summer trip",
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"red car" -cat', SearchFilters(phrases=("red car",), excluded=("cat",))),
        ("on:2019-02", SearchFilters(after=datetime(2019, 2, 1), before=datetime(2019, 3, 1))),
        ("is:favorite -is:archived", SearchFilters(favorite=True, archived=False)),
        ("has:gps", SearchFilters(has_location=True)),
        ("type:heif", SearchFilters(mimes=("image/heic",))),
        ("near:1,2,500m", SearchFilters(near=Circle(1.0, 2.0, 0.5))),
        ("near:1,2,1mi", SearchFilters(near=Circle(1.0, 2.0, 1.609344))),
    ],
)
def test_queries_read_as_filters(query: str, expected: SearchFilters) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("dog colour:red", 4),
        ('cat "open', 4),
        ("near:91,0", 0),
        ("a near:1,2,-1km", 2),
        ("after:2019-13", 0),
        ("x bbox:1,2,3", 2),
        ("type:mp3", 0),
        ("-camera:x", 0),
        ("tag:", 0),
    ],
)
def test_mistakes_say_where(query: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.details["position"] == position


def test_a_circle_near_the_antimeridian_wraps() -> None:
    box = Circle(0.0, 179.9, 50.0).box()
    assert box.west > box.east  # the box crosses 180°


def test_sort_keys_follow_time_and_bound_dates() -> None:
    a_millisecond_later = datetime(2019, 1, 1, 0, 0, 0, 1000)
    assert sort_key(datetime(2019, 1, 1), 1023) < sort_key(a_millisecond_later)
    low, high = sort_key_bounds(datetime(2019, 1, 1), datetime(2020, 1, 1))
    assert low is not None
    assert high is not None
    assert low <= sort_key(datetime(2019, 6, 1), 500) < high


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("favorite:true", "there is no “favorite:” filter; did you mean is:favorite?"),
        ("beach Archived:yes", "there is no “Archived:” filter; did you mean is:archived?"),
        ("gps:yes", "there is no “gps:” filter; did you mean has:location?"),
        ("year:2019", "there is no “year:” filter; did you mean on:2019-06?"),
        ("cammera:canon", "there is no “cammera:” filter; did you mean camera:?"),
        ("colour:red", "there is no “colour:” filter; filters are like after:2019, on:2019-06,"),
    ],
)
def test_an_unknown_filter_says_what_was_meant_in_words(query: str, said: str) -> None:
    """It answered "unknown filter 'favorite'; known: after, album, bbox, …" (#16)."""
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.message.startswith(said)
    assert caught.value.details["position"] == query.index(query.split()[-1])
