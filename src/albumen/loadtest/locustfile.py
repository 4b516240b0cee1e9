"""The two load scenarios, as Locust users. Locust imports this file in its own process.

The run command hands over what the users need in a JSON file named by
``ALBUMEN_LOADTEST_PLAN``: API keys, the photos each key can see (by popularity rank), the
upload samples and the search queries.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

from albumen.loadtest.files import unique

PLAN: dict[str, Any] = json.loads(Path(os.environ["ALBUMEN_LOADTEST_PLAN"]).read_text())
_accounts = itertools.cycle(range(len(PLAN["accounts"])))
ZIPF = 1.1  # a few photos are looked at a lot, most rarely: caches matter


class Account:
    def __init__(self) -> None:
        account = PLAN["accounts"][next(_accounts)]
        self.auth = {"Authorization": f"Bearer {account['key']}"}
        self.photos: list[str] = account["photos"]
        ranks = range(1, len(self.photos) + 1)
        self.weights = [1 / rank**ZIPF for rank in ranks]

    def popular_photo(self) -> str:
        return random.choices(self.photos, self.weights)[0]


class PeakUpload(HttpUser):
    """70% upload a ~5 MB photo (then read its JSON back), 20% create an album, 10% search."""

    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.account = Account()
        self.samples = [Path(path).read_bytes() for path in PLAN["uploads"]]

    @task(70)
    def upload(self) -> None:
        data = unique(random.choice(self.samples))
        files = {"file": (f"{uuid.uuid4().hex}.jpg", data, "image/jpeg")}
        with self.client.post(
            "/api/v1/photos",
            files=files,
            headers=self.account.auth,
            name="upload",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
        photo_id = response.json()["id"]
        self.client.get(f"/api/v1/photos/{photo_id}", headers=self.account.auth, name="metadata")

    @task(20)
    def create_album(self) -> None:
        body = {"name": f"Trip {uuid.uuid4().hex[:8]}"}
        self.client.post("/api/v1/albums", json=body, headers=self.account.auth, name="album")

    @task(10)
    def search(self) -> None:
        query = {"q": random.choice(PLAN["queries"])}
        self.client.get("/api/v1/search", params=query, headers=self.account.auth, name="search")


class GlobalRead(HttpUser):
    """Reading the library, as people do: 35% view a thumbnail and 10% download an original
    (popular photos more often), 25% browse (list the timeline, see its first thumbnails,
    open a photo and walk on through its neighbours in the viewer), 30% search."""

    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.account = Account()
        self.webp = self.account.auth | {"Accept": "image/webp,*/*"}

    @task(35)
    def thumbnail(self) -> None:
        photo_id = self.account.popular_photo()
        self.client.get(f"/api/v1/photos/{photo_id}/thumbnail", headers=self.webp, name="thumbnail")

    @task(25)
    def browse(self) -> None:
        page = self.client.get(
            "/api/v1/photos", params={"limit": 60}, headers=self.account.auth, name="timeline"
        )
        if page.status_code != 200:
            return
        ids = [photo["id"] for photo in page.json()["items"]]
        for photo_id in ids[:12]:  # the first screenful
            self.client.get(
                f"/api/v1/photos/{photo_id}/thumbnail", headers=self.webp, name="thumbnail"
            )
        if not ids:
            return
        at = random.randrange(min(len(ids), 30))
        while at < len(ids):  # the viewer: one photo, then the next, while it holds interest
            self.client.get(
                f"/api/v1/photos/{ids[at]}/thumbnail?size=preview",
                headers=self.webp,
                name="preview",
            )
            if random.random() > 0.75:
                break
            at += 1

    @task(30)
    def search(self) -> None:
        query = {"q": random.choice(PLAN["queries"])}
        self.client.get("/api/v1/search", params=query, headers=self.account.auth, name="search")

    @task(10)
    def download(self) -> None:
        photo_id = self.account.popular_photo()
        self.client.get(
            f"/api/v1/photos/{photo_id}/original", headers=self.account.auth, name="original"
        )
