"""Every shape of search is answered from an index: no plan scans the photo table.

On SQLite the plan is the one it runs. PostgreSQL's planner prefers a scan of a table this
small, so there the plan is asked with sequential scans priced out (``enable_seqscan=off``):
a scan still chosen then means that no index could answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, create_engine

from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.search.postgres import PostgresSearchIndex
from albumen.adapters.db.search.sqlite import SqliteSearchIndex
from albumen.app.services import Services
from albumen.domain.metadata import Location, PhotoMetadata, TakenAt
from albumen.domain.photos import NewPhoto
from albumen.domain.search import SearchFilters, parse_query

QUERIES = [
    "beach",
    "beach dog -cat",
    "tag:dog",
    'camera:"iphone 12"',
    "after:2019 before:2020",
    "is:favorite",
    "is:archived",
    "type:heic",
    "has:location",
    "beach after:2019 is:favorite",
    "near:48.85,2.35,5km",
    "bbox:48,2,49,3",
    "-cat",
]


@pytest.fixture
def owner(services: Services, engine: Engine) -> str:
    user = services.users.add("alice").user
    repo = SqlPhotoRepo(engine)
    for n in range(20):
        photo, _ = repo.add(
            NewPhoto(user.id, f"beach_{n}.jpg", "image/jpeg", 1, f"{n:064x}"), datetime(2024, 1, 1)
        )
        when = datetime(2015 + n % 8, 1 + n % 12, 1)
        meta = PhotoMetadata(4, 3, taken_at=TakenAt(when, 0, "t"), location=Location(48.85, 2.35))
        repo.save_metadata(photo.id, meta, when, None)
    return user.id


@pytest.fixture
def index(services: Services, engine: Engine) -> Iterator[SqliteSearchIndex | PostgresSearchIndex]:
    if engine.dialect.name == "sqlite":
        yield SqliteSearchIndex(engine)
        return
    engine = create_engine(engine.url, connect_args={"options": "-c enable_seqscan=off"})
    yield PostgresSearchIndex(engine)
    engine.dispose()


@pytest.mark.parametrize("q", QUERIES)
def test_no_search_scans_the_photo_table(
    index: SqliteSearchIndex | PostgresSearchIndex, owner: str, q: str
) -> None:
    plan = index.explain(owner, parse_query(q), None)
    assert plan
    full_scans = [
        step
        for step in plan
        if step.split()[:2] in (["SCAN", "p"], ["SCAN", "photos"]) or "Seq Scan" in step
    ]
    assert full_scans == [], plan


def test_an_album_filter_is_answered_from_the_text_index(
    index: SqliteSearchIndex | PostgresSearchIndex, owner: str
) -> None:
    plan = index.explain(owner, SearchFilters(), ["an-album"])
    if isinstance(index, SqliteSearchIndex):
        assert plan[0].startswith("SCAN f VIRTUAL TABLE")
    else:  # which index leads is the planner's choice on so few rows; none is scanned
        assert any("photo_search" in step for step in plan), plan
        assert not any("Seq Scan" in step for step in plan), plan
