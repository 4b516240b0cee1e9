"""Analysis through the app: a photo's faces and tags after its thumbnails, and search by them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from albumen.adapters.blobs import LocalBlobStore
from albumen.adapters.db.analysis import SqlAnalysisRepo
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.app import Services, blob_root, build_services
from albumen.config import Settings
from albumen.domain.analysis import Analysis
from albumen.domain.errors import CorruptMedia
from albumen.domain.jobs import Outcome
from albumen.services.analysis import AnalysisService
from albumen.web import create_app
from tests.conftest import upload
from tests.fakes import FakeClock, FakeQueue

Headers = dict[str, str]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", run_workers_in_server=False, job_retries=0)


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[TestClient, Services, Headers]]:
    services = build_services(settings)
    auth = {"Authorization": f"Bearer {services.users.add('alice').secret}"}
    with TestClient(create_app(settings, services)) as client:
        yield client, services, auth
    services.close()


@pytest.mark.photos
def test_a_photo_is_analysed_after_its_thumbnails(
    world: tuple[TestClient, Services, Headers], photos_dir: Path
) -> None:
    client, services, auth = world
    dog = upload(client, auth, (photos_dir / "darknet_dog.jpg").read_bytes(), "dog.jpg").json()
    face = upload(client, auth, (photos_dir / "facerec_obama.jpg").read_bytes(), "o.jpg").json()
    services.queue.run_pending()  # processing, which queues the analysis
    services.queue.run_pending()
    tags = client.get(f"/api/v1/photos/{dog['id']}", headers=auth).json()["tags"]
    by_name = {tag["name"]: tag for tag in tags}
    assert {"dog", "bicycle"} <= set(by_name)
    assert by_name["dog"]["source"] in ("ssd-mobilenet-v2-coco", "efficientnet-lite3")
    assert 0 < by_name["dog"]["confidence"] <= 1
    found = client.get("/api/v1/search", headers=auth, params={"q": "dog"}).json()
    assert [p["id"] for p in found["items"]] == [dog["id"]]
    person = client.get("/api/v1/search", headers=auth, params={"q": "tag:person"}).json()
    assert face["id"] in [p["id"] for p in person["items"]]
    assert services.analysis.queue_unanalysed() == 0  # both done with the current models


class BrokenAnalyzer:
    version = "broken/1"

    def analyze(self, image: bytes) -> Analysis:
        raise CorruptMedia("the model could not read it")


@pytest.mark.photos
def test_a_failed_analysis_keeps_the_photo(
    world: tuple[TestClient, Services, Headers], photos_dir: Path, settings: Settings
) -> None:
    client, services, auth = world
    photo = upload(client, auth, (photos_dir / "darknet_dog.jpg").read_bytes()).json()
    services.queue.run_pending()
    broken = AnalysisService(
        SqlPhotoRepo(services.engine),
        SqlAnalysisRepo(services.engine),
        LocalBlobStore(blob_root(settings.effective_storage_url)),
        BrokenAnalyzer(),
        FakeQueue(),
        FakeClock(),
    )
    assert broken.analyze_photo(photo["id"]) is Outcome.FAILED
    shown = client.get(f"/api/v1/photos/{photo['id']}", headers=auth).json()
    assert (shown["status"], shown["analysis_error"]) == ("ready", "the model could not read it")
    assert client.get(f"/api/v1/photos/{photo['id']}/thumbnail", headers=auth).status_code == 200
