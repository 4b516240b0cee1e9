"""The search box's suggestions: what a word being typed may mean in the user's own library."""

from __future__ import annotations

from fastapi.testclient import TestClient

from albumen.adapters.queue import HueyJobQueue
from albumen.app.services import Services
from tests.conftest import make_jpeg


def test_suggestions_come_from_the_users_own_library(
    client: TestClient, services: Services, queue: HueyJobQueue, auth: dict[str, str]
) -> None:
    camera = {0x010F: "Canon", 0x0110: "Canon EOS R5"}
    photo = client.post(
        "/api/v1/photos", headers=auth, files={"file": ("a.jpg", make_jpeg(seed=1, exif=camera))}
    ).json()
    queue.run_pending()
    client.patch(f"/api/v1/photos/{photo['id']}", headers=auth, json={"tags": ["canal boat"]})
    client.post("/api/v1/albums", headers=auth, json={"name": "Cannes 2024"})
    # another user's library lends nothing to alice's suggestions
    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    other = {0x010F: "Canon", 0x0110: "Canon PowerShot G7"}
    client.post(
        "/api/v1/photos", headers=bob, files={"file": ("b.jpg", make_jpeg(seed=2, exif=other))}
    )
    client.post("/api/v1/albums", headers=bob, json={"name": "Canberra"})
    queue.run_pending()

    found = client.get("/api/v1/search/suggest", params={"q": "can"}, headers=auth).json()

    assert {(s["kind"], s["label"], s["query"]) for s in found} == {
        ("camera", "Canon EOS R5", 'camera:"Canon EOS R5"'),
        ("tag", "canal boat", 'tag:"canal boat"'),
        ("album", "Cannes 2024", 'in:"Cannes 2024"'),
    }
    # each suggestion's query finds what it names
    for suggestion in found:
        hits = client.get("/api/v1/search", params={"q": suggestion["query"]}, headers=auth)
        expected = [] if suggestion["kind"] == "album" else [photo["id"]]  # the album is empty
        assert [p["id"] for p in hits.json()["items"]] == expected


def test_filters_are_suggested_by_their_start_and_short_words_get_nothing(
    client: TestClient, auth: dict[str, str]
) -> None:
    found = client.get("/api/v1/search/suggest", params={"q": "aft"}, headers=auth).json()
    assert found == [{"kind": "filter", "label": "after a date", "query": "after:"}]
    for word in ("a", "camera:x", ""):
        answer = client.get("/api/v1/search/suggest", params={"q": word}, headers=auth)
        assert answer.json() == []
    assert client.get("/api/v1/search/suggest", params={"q": "ab"}).status_code == 401
