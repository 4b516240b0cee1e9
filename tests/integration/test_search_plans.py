"""Every shape of search is answered from an index: SQLite's plan never scans the photo table."""

from __future__ import annotations

from datetime import datetime

import pytest

from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.search import SqliteSearchIndex
from albumen.app import Services
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
def owner(services: Services) -> str:
    user = services.users.add("alice").user
    repo = SqlPhotoRepo(services.engine)
    for n in range(20):
        photo, _ = repo.add(
            NewPhoto(user.id, f"beach_{n}.jpg", "image/jpeg", 1, f"{n:064x}"), datetime(2024, 1, 1)
        )
        when = datetime(2015 + n % 8, 1 + n % 12, 1)
        meta = PhotoMetadata(4, 3, taken_at=TakenAt(when, 0, "t"), location=Location(48.85, 2.35))
        repo.save_metadata(photo.id, meta, when, None)
    return user.id


@pytest.mark.parametrize("q", QUERIES)
def test_no_search_scans_the_photo_table(services: Services, owner: str, q: str) -> None:
    plan = SqliteSearchIndex(services.engine).explain(owner, parse_query(q), None)
    assert plan
    full_scans = [step for step in plan if step.split()[:2] in (["SCAN", "p"], ["SCAN", "photos"])]
    assert full_scans == [], plan


def test_an_album_filter_is_answered_from_the_text_index(services: Services, owner: str) -> None:
    plan = SqliteSearchIndex(services.engine).explain(owner, SearchFilters(), ["an-album"])
    assert plan[0].startswith("SCAN f VIRTUAL TABLE")
