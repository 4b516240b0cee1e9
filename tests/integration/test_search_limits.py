"""A search's work depends on the searcher's own library only, and is bounded (#21, 1 and 2).

The red team read another user's private album name letter by letter: a word anyone's
library started answered in a few ms, one nobody's did spent 50-130 ms on the words a typo
away. Timing is not a test's business here; the statements a search runs are: they must be
the same, one by one, whatever another user's library holds. And a hostile query (a word of
999 letters, 199 nonsense words) runs a bounded number of statements, or is refused.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.search.postgres import PostgresSearchIndex
from albumen.adapters.db.search.sqlite import SqliteSearchIndex
from albumen.app.infrastructure import Infrastructure
from albumen.app.services import Services
from albumen.domain.albums import AlbumEdit
from albumen.domain.errors import InvalidInput
from albumen.domain.photos import NewPhoto, PhotoEdit
from albumen.domain.search import MAX_TERMS, SearchFilters, SearchOrder, SearchTooCostly

TYPED = ["zan", "zanz", "zanzi", "zanzib", "zanzibr", "zanzibar", "zamzibar", "zanzibarx"]


@contextmanager
def statements() -> Iterator[list[tuple[str, str]]]:
    """Every statement any engine runs inside the block, with its parameters."""
    seen: list[tuple[str, str]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_rest: Any) -> None:
        seen.append((sql, repr(params)))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def photo(engine: Engine, owner: str, filename: str, n: int) -> str:
    new = NewPhoto(owner, filename, "image/jpeg", 1, f"{n:064x}")
    return SqlPhotoRepo(engine).add(new, datetime(2024, 1, 1, 0, 0, n))[0].id


def found(services: Services, user: str, q: str) -> list[str]:
    filters = services.search.filters(q, SearchFilters())
    result = services.search.search(user, filters, SearchOrder.NEWEST, 50, None)
    return [p.id for p in result.page.photos]


@pytest.fixture
def users(services: Services) -> tuple[str, str]:
    return services.users.add("alice").user.id, services.users.add("mallory").user.id


def test_a_search_runs_the_same_statements_whatever_another_user_has(
    services: Services, engine: Engine, users: tuple[str, str]
) -> None:
    alice, mallory = users
    photo(engine, mallory, "harbour.jpg", 1)

    def mallory_types() -> list[list[str]]:
        return [found(services, mallory, word) for word in TYPED]

    with statements() as before:
        answers_before = mallory_types()
    photo(engine, alice, "zanzibar_secret.jpg", 2)
    album = services.albums.create(alice, "Zanzibar honeymoon")
    services.albums.add_photos(alice, album.id, [photo(engine, alice, "z.jpg", 3)])
    with statements() as after:
        answers_after = mallory_types()

    assert answers_before == answers_after == [[]] * len(TYPED)
    assert after == before


def test_the_owners_own_words_are_still_found_a_typo_away(
    services: Services, engine: Engine, users: tuple[str, str]
) -> None:
    alice, mallory = users
    secret = photo(engine, alice, "zanzibar_secret.jpg", 1)
    photo(engine, mallory, "harbour.jpg", 2)
    for typo in ("zanzibr", "zamzibar", "zanzibarx", "znazibar"):
        assert found(services, alice, typo) == [secret], typo
        assert found(services, mallory, typo) == [], typo
    assert found(services, alice, "zanz") == [secret]


def test_the_vocabulary_follows_every_way_a_word_enters_the_library(
    services: Services, engine: Engine, users: tuple[str, str]
) -> None:
    alice, _ = users
    photo_id = photo(engine, alice, "plain.jpg", 1)
    services.photos.edit(
        alice, photo_id, PhotoEdit(description="lighthouse keeper", tags=("kayaking",))
    )
    album = services.albums.create(alice, "Provence")
    services.albums.add_photos(alice, album.id, [photo_id])
    services.albums.edit(alice, album.id, AlbumEdit(name="Brittany"))
    # a typo of each is found: the word is in alice's vocabulary
    for typo in ("lighthuose", "keepr", "kayakin", "brittny"):
        assert found(services, alice, typo) == [photo_id], typo
    assert found(services, alice, "provnce") == []  # the album's name is no longer that


def test_a_hostile_query_runs_a_bounded_number_of_statements(
    services: Services, engine: Engine, users: tuple[str, str]
) -> None:
    _, mallory = users
    photo(engine, mallory, "harbour.jpg", 1)

    def run(q: str) -> Callable[[], list[str]]:
        return lambda: found(services, mallory, q)

    with statements() as seen:
        assert run("b" * 999)() == []
    assert len(seen) < 10

    nonsense = " ".join(f"qx{n}" for n in range(MAX_TERMS))
    with statements() as seen:
        assert run(nonsense)() == []
    assert len(seen) <= 2 * MAX_TERMS + 10  # the prefix and typo lookups, then the search

    with pytest.raises(InvalidInput) as refused:
        run(nonsense + " one-more")()
    assert refused.value.code == "query_too_long"
    assert f"at most {MAX_TERMS} words" in refused.value.message


ENDLESS = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"


def test_a_search_stops_when_its_time_budget_is_spent(
    services: Services,
    infrastructure: Infrastructure,
    users: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, _ = users
    index = infrastructure.search_index()
    assert isinstance(index, SqliteSearchIndex | PostgresSearchIndex)
    monkeypatch.setattr(sys.modules[type(index).__module__], "SEARCH_SECONDS", 0.05)
    endless = ENDLESS if infrastructure.engine.dialect.name == "sqlite" else "SELECT pg_sleep(30)"

    with pytest.raises(SearchTooCostly) as stopped, index.budgeted(alice) as conn:
        conn.execute(text(endless))
    assert stopped.value.code == "query_too_costly"
    # the connection goes back to the pool whole: the next search answers
    photo_id = photo(infrastructure.engine, alice, "after.jpg", 1)
    assert found(services, alice, "after") == [photo_id]
