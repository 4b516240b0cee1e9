"""Statements timed and slow ones kept with the engine's own plan, in both worlds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from albumen.app.root import Albumen, build
from albumen.config import Settings
from albumen.domain.search import SearchOrder, parse_query


@pytest.fixture
def watched(settings: Settings) -> Iterator[Albumen]:
    built = build(settings.model_copy(update={"slow_query_ms": 0}))  # all "slow"
    yield built
    built.close()


def test_a_slow_statement_is_kept_with_its_plan_not_its_parameters(watched: Albumen) -> None:
    with watched.infrastructure.engine.begin() as conn:
        conn.execute(text("SELECT * FROM photos WHERE filename LIKE :p"), {"p": "%SECRET%"}).all()
        conn.execute(text("SELECT * FROM users WHERE id = :id"), {"id": "someone"}).all()
        assert conn.execute(text("SELECT 41 + 1")).scalar() == 42  # the plans left it working
    slow = watched.operations.queries.slow()
    (scan,) = [q for q in slow if "filename LIKE" in q.statement]
    (lookup,) = [q for q in slow if "FROM users WHERE id" in q.statement]
    assert scan.full_scans, scan.plan  # SQLite: SCAN photos; PostgreSQL: Seq Scan on photos
    assert "SECRET" not in scan.statement
    assert lookup.indexes, lookup.plan  # the primary key's index, named
    assert not lookup.full_scans


def test_a_search_explains_every_statement_it_sends(watched: Albumen) -> None:
    owner = watched.services.users.add("alice").user.id
    with watched.operations.queries.capturing() as statements:
        watched.services.search.search(owner, parse_query("beach"), SearchOrder.NEWEST, 10, None)
    assert statements
    plans = [q.plan for q in statements]
    # the text index answers (SQLite: the FTS5 table, aliased f; PostgreSQL: photo_search)
    assert any("VIRTUAL TABLE" in step or "photo_search" in step for p in plans for step in p)
    # the owner's own vocabulary, through its primary key, for the words a typo away
    vocabulary = [step for p in plans for step in p if "search_terms" in step]
    assert vocabulary, plans
    assert all("SCAN" not in step and "Seq Scan" not in step for step in vocabulary), plans
