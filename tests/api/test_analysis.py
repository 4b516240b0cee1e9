"""Analysis through the app: a photo's faces and tags after its thumbnails, and search by them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from albumen.adapters.db.analysis import SqlAnalysisRepo
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.app.root import Albumen, build
from albumen.config import Settings
from albumen.domain.analysis import Analysis, Box, DetectedFace
from albumen.domain.errors import CorruptMedia, Unavailable
from albumen.domain.jobs import Outcome
from albumen.services.analysis import AnalysisService
from albumen.web import create_app
from tests.conftest import make_jpeg, upload, world_settings
from tests.fakes import FakeClock, FakeQueue

Headers = dict[str, str]


@pytest.fixture
def settings(tmp_path: Path, world_kind: str, request: pytest.FixtureRequest) -> Settings:
    return world_settings(tmp_path, world_kind, request)  # with analysis


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[TestClient, Albumen, Headers]]:
    built = build(settings)
    auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    with TestClient(create_app(settings, built)) as client:
        yield client, built, auth
    built.close()


@pytest.mark.photos
def test_a_photo_is_analysed_after_its_thumbnails(
    world: tuple[TestClient, Albumen, Headers], photos_dir: Path
) -> None:
    client, built, auth = world
    dog = upload(client, auth, (photos_dir / "darknet_dog.jpg").read_bytes(), "dog.jpg").json()
    face = upload(client, auth, (photos_dir / "facerec_obama.jpg").read_bytes(), "o.jpg").json()
    built.infrastructure.queue.run_pending()  # processing, which queues the analysis
    built.infrastructure.queue.run_pending()
    tags = client.get(f"/api/v1/photos/{dog['id']}", headers=auth).json()["tags"]
    by_name = {tag["name"]: tag for tag in tags}
    assert {"dog", "bicycle"} <= set(by_name)
    assert by_name["dog"]["source"] in ("ssd-mobilenet-v2-coco", "efficientnet-lite3")
    assert 0 < by_name["dog"]["confidence"] <= 1
    found = client.get("/api/v1/search", headers=auth, params={"q": "dog"}).json()
    assert [p["id"] for p in found["items"]] == [dog["id"]]
    person = client.get("/api/v1/search", headers=auth, params={"q": "tag:person"}).json()
    assert face["id"] in [p["id"] for p in person["items"]]
    assert built.services.analysis.queue_unanalysed() == 0  # both done with the current models


class BrokenAnalyzer:
    version = "broken/1"

    def analyze(self, image: bytes) -> Analysis:
        raise CorruptMedia("the model could not read it")


@pytest.mark.photos
def test_a_failed_analysis_keeps_the_photo(
    world: tuple[TestClient, Albumen, Headers], photos_dir: Path, settings: Settings
) -> None:
    client, built, auth = world
    photo = upload(client, auth, (photos_dir / "darknet_dog.jpg").read_bytes()).json()
    built.infrastructure.queue.run_pending()
    broken = AnalysisService(
        SqlPhotoRepo(built.infrastructure.engine),
        SqlAnalysisRepo(built.infrastructure.engine),
        built.infrastructure.stores.blobs,
        BrokenAnalyzer(),
        FakeQueue(),
        FakeClock(),
    )
    assert broken.analyze_photo(photo["id"]) is Outcome.FAILED
    shown = client.get(f"/api/v1/photos/{photo['id']}", headers=auth).json()
    assert (shown["status"], shown["analysis_error"]) == ("ready", "the model could not read it")
    assert client.get(f"/api/v1/photos/{photo['id']}/thumbnail", headers=auth).status_code == 200


class AwayAnalyzer:
    version = "away/1"

    def analyze(self, image: bytes) -> Analysis:
        raise Unavailable("object storage cannot be reached now", code="storage_unavailable")


def test_an_analysis_that_meets_an_outage_is_tried_again_not_failed(
    world: tuple[TestClient, Albumen, Headers],
) -> None:
    """A store or database away is no fault of the photo: the job raises (the queue retries
    it) and the photo is still to be analysed; it was recorded as failed for good."""
    client, built, auth = world
    photo = upload(client, auth, make_jpeg(seed=7)).json()
    queue = FakeQueue()
    analyses = SqlAnalysisRepo(built.infrastructure.engine)
    away = AnalysisService(
        SqlPhotoRepo(built.infrastructure.engine),
        analyses,
        built.infrastructure.stores.blobs,
        AwayAnalyzer(),
        queue,
        FakeClock(),
    )
    built.infrastructure.queue.run_pending()  # thumbnails (the real analysis is queued)
    with pytest.raises(Unavailable):
        away.analyze_photo(photo["id"])
    shown = client.get(f"/api/v1/photos/{photo['id']}", headers=auth).json()
    assert shown["analysis_error"] is None
    assert away.queue_unanalysed() == 1  # still to be done with these models


def _analysed(
    world: tuple[TestClient, Albumen, Headers], photos_dir: Path, *names: str
) -> list[str]:
    client, built, auth = world
    ids = [
        upload(client, auth, (photos_dir / name).read_bytes(), name).json()["id"] for name in names
    ]
    for _ in range(3):  # processing, analysis, grouping
        built.infrastructure.queue.run_pending()
    return ids


@pytest.mark.photos
def test_people_are_named_searched_merged_split_and_hidden(
    world: tuple[TestClient, Albumen, Headers], photos_dir: Path
) -> None:
    client, _services, auth = world
    obama, obama1, biden = _analysed(
        world, photos_dir, "facerec_obama.jpg", "facerec_obama1.jpg", "facerec_biden.jpg"
    )
    people = client.get("/api/v1/people", headers=auth).json()
    assert [(p["face_count"], p["photo_count"]) for p in people] == [(2, 2), (1, 1)]
    barack, joe = people[0]["id"], people[1]["id"]
    named = client.patch(f"/api/v1/people/{barack}", headers=auth, json={"name": "Barack"})
    assert named.json()["name"] == "Barack"

    def found(q: str) -> set[str]:
        result = client.get("/api/v1/search", headers=auth, params={"q": q}).json()
        return {p["id"] for p in result["items"]}

    assert found("person:barack") == {obama, obama1}
    assert found("barack") == {obama, obama1}  # names are text too
    theirs = client.get(f"/api/v1/people/{barack}/photos", headers=auth).json()["items"]
    assert {p["id"] for p in theirs} == {obama, obama1}
    (face,) = client.get(f"/api/v1/photos/{biden}/faces", headers=auth).json()
    assert face["person_id"] == joe
    crop = client.get(f"/api/v1/faces/{face['id']}/thumbnail", headers=auth)
    assert crop.headers["content-type"] == "image/jpeg"
    assert crop.content.startswith(b"\xff\xd8")
    merged = client.post(f"/api/v1/people/{barack}/merge", headers=auth, json={"ids": [joe]})
    assert (
        merged.json()["face_count"],
        len(client.get("/api/v1/people", headers=auth).json()),
    ) == (
        3,
        1,
    )
    assert found("person:barack") == {obama, obama1, biden}
    faces = client.get(f"/api/v1/people/{barack}/faces", headers=auth, params={"limit": 2}).json()
    rest = client.get(
        f"/api/v1/people/{barack}/faces", headers=auth, params={"cursor": faces["next_cursor"]}
    ).json()
    listed = faces["items"] + rest["items"]
    assert rest["next_cursor"] is None
    assert {f["photo_id"] for f in listed} == {obama, obama1, biden}  # each face once, paged
    assert face["id"] in {f["id"] for f in listed}
    split = client.patch(f"/api/v1/faces/{face['id']}", headers=auth, json={"person_id": None})
    assert split.json()["person_id"] not in (barack, joe)
    assert found("person:barack") == {obama, obama1}
    client.patch(f"/api/v1/people/{barack}", headers=auth, json={"hidden": True})
    assert [p["id"] for p in client.get("/api/v1/people", headers=auth).json()] == [
        split.json()["person_id"]
    ]
    assert len(client.get("/api/v1/people?hidden=true", headers=auth).json()) == 2


@pytest.mark.photos
def test_people_are_private(world: tuple[TestClient, Albumen, Headers], photos_dir: Path) -> None:
    client, built, _auth = world
    (photo,) = _analysed(world, photos_dir, "facerec_biden.jpg")
    other = {"Authorization": f"Bearer {built.services.users.add('bob').secret}"}
    assert client.get("/api/v1/people", headers=other).json() == []
    person = client.get("/api/v1/people", headers=world[2]).json()[0]["id"]
    face = client.get(f"/api/v1/photos/{photo}/faces", headers=world[2]).json()[0]["id"]
    for path in (f"/api/v1/people/{person}", f"/api/v1/faces/{face}/thumbnail"):
        assert client.get(path, headers=other).status_code == 404
    assert client.get(f"/api/v1/photos/{photo}/faces", headers=other).status_code == 404
    moved = client.patch(f"/api/v1/faces/{face}", headers=other, json={"person_id": None})
    assert moved.status_code == 404


def test_the_people_list_takes_the_same_queries_however_many(
    world: tuple[TestClient, Albumen, Headers],
) -> None:
    client, built, auth = world
    owner = built.services.users.by_name("alice").id
    statements: list[str] = []
    event.listen(
        built.infrastructure.engine,
        "before_cursor_execute",
        lambda *args: statements.append(args[2]),
    )

    def count(people: int) -> int:
        photo = upload(client, auth, make_jpeg(32, 24, seed=people)).json()["id"]
        vectors = np.eye(128, dtype=np.float32)[people * 3 : people * 3 + 3]
        analysis = Analysis(
            faces=[
                DetectedFace(Box(0.1, 0.1, 0.2, 0.2), (), 0.99, tuple(map(float, v)), b"")
                for v in vectors
            ]
        )
        crops: list[str | None] = [None] * len(vectors)
        SqlAnalysisRepo(built.infrastructure.engine).save(
            photo, owner, "t/1", analysis, crops, FakeClock().now()
        )
        built.services.people.group_new_faces(owner)  # orthogonal faces: three new people each time
        statements.clear()
        assert len(client.get("/api/v1/people", headers=auth).json()) == people * 3
        return len(statements)

    assert count(1) == count(2) == count(3)


@pytest.mark.photos
def test_similar_photos_and_duplicates_through_the_api(
    world: tuple[TestClient, Albumen, Headers], photos_dir: Path
) -> None:
    client, built, auth = world
    jpeg, tif, dog = _analysed(
        world, photos_dir, "pillow_hopper.jpg", "pillow_hopper.tif", "darknet_dog.jpg"
    )
    alike = client.get(f"/api/v1/photos/{jpeg}/similar", headers=auth, params={"limit": 2})
    assert [(s["photo"]["id"], s["score"] > 0.9) for s in alike.json()] == [
        (tif, True),
        (dog, False),
    ]
    groups = client.get("/api/v1/duplicates", headers=auth).json()
    assert [(g["keeper_id"], {p["id"] for p in g["photos"]}) for g in groups] == [
        (tif, {jpeg, tif})
    ]
    bob = {"Authorization": f"Bearer {built.services.users.add('bob').secret}"}
    assert client.get(f"/api/v1/photos/{jpeg}/similar", headers=bob).status_code == 404
    assert client.get("/api/v1/duplicates", headers=bob).json() == []
