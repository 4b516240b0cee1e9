"""Browser tests: Playwright drives Debian's Chromium against a real ``albumen serve``.

Skipped, with the reason, where Chromium, Playwright or the web app's npm packages are missing
(``make test`` installs Chromium as root; ``make setup`` the packages)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from albumen.api.pages import MODULES
from tests.browser.chromium import ARGS, CHROMIUM
from tests.conftest import SHARED_PHOTOS, make_jpeg
from tests.live import LiveServer

PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AXE = MODULES / "axe-core" / "axe.min.js"

if not Path(CHROMIUM).is_file():
    pytest.skip("no Chromium (Debian: apt-get install chromium)", allow_module_level=True)
if not (MODULES / "tus-js-client").is_dir() or not AXE.is_file():
    pytest.skip("the web app's npm packages are missing: run `make setup`", allow_module_level=True)


def dated_jpeg(when: datetime, seed: int, size: tuple[int, int] = (480, 320)) -> bytes:
    taken = {0x9003: when.strftime("%Y:%m:%d %H:%M:%S"), 0x9011: "+02:00"}  # and its offset
    return make_jpeg(*size, seed=seed, exif={0x8769: taken})


class Library:
    """A served Albumen with a signed-up user, an API key and photos over several years."""

    def __init__(self, server: LiveServer, key: str) -> None:
        self.server = server
        self.url = server.url
        self.key = key
        self.headers = {"Authorization": f"Bearer {key}"}

    def upload(self, name: str, data: bytes) -> dict[str, object]:
        response = requests.post(
            f"{self.url}/api/v1/photos", headers=self.headers, files={"file": (name, data)}
        )
        response.raise_for_status()
        photo: dict[str, object] = response.json()
        return photo

    def get(self, path: str, **params: str) -> Any:
        response = requests.get(f"{self.url}{path}", headers=self.headers, params=params)
        response.raise_for_status()
        return response.json()

    def wait_ready(self) -> None:
        import time

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            jobs = self.get("/api/v1/jobs")
            busy = jobs["photos"].get("pending") or jobs["photos"].get("processing")
            if not busy and not jobs["queue_depth"] and not jobs["running"]:
                return
            time.sleep(0.2)
        raise AssertionError("the photos were not processed (and analysed) in time")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    real = (SHARED_PHOTOS / "truth.csv").is_file()
    # The models run only where there are real faces to find (../shared/photos).
    analysis = "true" if real else "false"
    folder = tmp_path_factory.mktemp("browser")
    server = LiveServer(
        folder / "data",
        ALBUMEN_ANALYSIS=analysis,
        ALBUMEN_WARM_STORAGE_URL=(folder / "warm").as_uri(),
        ALBUMEN_COLD_STORAGE_URL=(folder / "cold").as_uri(),
        ALBUMEN_TIER_LATENCY_SECONDS='{"cold": 60}',
    )
    key = server.cli("users", "add", "alice")
    server.cli("users", "passwd", "alice", "--password", PASSWORD)
    server.start()
    lib = Library(server, key)
    # Photos over three years, a few a month; and real camera files where ../shared has them.
    seed = 0
    for year in (2021, 2022, 2023):
        for month in (1, 4, 7, 10):
            for day in (3, 17):
                seed += 1
                lib.upload(f"IMG_{seed:04}.jpg", dated_jpeg(datetime(year, month, day, 12), seed))
    if real:
        with (SHARED_PHOTOS / "truth.csv").open() as rows:
            for row in csv.DictReader(rows):
                if row["decodes"].startswith("yes") and row["mime"] == "image/jpeg":
                    lib.upload(row["filename"], (SHARED_PHOTOS / row["filename"]).read_bytes())
    lib.wait_ready()
    try:
        yield lib
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, library: Library) -> Iterator[Page]:
    """A fresh browser profile, signed in as alice through the sign-in page."""
    context = browser.new_context(base_url=library.url, viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(tab, library)
    yield tab
    context.close()
    assert not errors, errors


def sign_in(tab: Page, library: Library) -> None:
    """Through the sign-in page, as alice; back on the timeline."""
    tab.goto("/login")
    tab.get_by_label("User name").fill("alice")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(f"{library.url}/")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def axe_violations(page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical findings on the page as it is now. (Evaluated through
    the DevTools protocol: the page's CSP rightly refuses an injected script tag.)"""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
