"""Memories in a real browser (#16): the strip on the start page, a memory as a story (its photos,
a slideshow), hiding one with Undo, sharing one, and a phone's. Checked on the screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.api.test_map import Spot
from tests.api.test_memories import dated
from tests.browser.conftest import PASSWORD, Library, axe_violations, screenshot, sign_in
from tests.live import LiveServer

DELFT = Spot("delft", 52.0116, 4.3571)
LISBON = Spot("lisbon", 38.7223, -9.1393)
TODAY = date.today()  # the browser's own day: memories are found for it


def _exif_date(day: date, hour: int = 12) -> str:
    return f"{day:%Y:%m:%d} {hour:02d}:00:00"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """Home in Delft, three days in Lisbon three weeks ago, and this day 3 and 6 years ago."""
    folder = tmp_path_factory.mktemp("memories")
    server = LiveServer(folder / "data", ALBUMEN_ANALYSIS="false")
    key = server.cli("users", "add", "alice")
    server.cli("users", "passwd", "alice", "--password", PASSWORD)
    server.start()
    lib = Library(server, key)
    shots = [(DELFT, TODAY - timedelta(days=days)) for days in (40, 30, 10, 5, 2)]
    shots += [(LISBON, TODAY - timedelta(days=days)) for days in (21, 20, 20, 19)]
    for years in (3, 6):
        shots.append((DELFT, TODAY.replace(year=TODAY.year - years)))
    for n, (spot, day) in enumerate(shots):
        photo = dated(spot, _exif_date(day, 8 + n % 10), n, size=(480, 640))
        lib.upload(f"{spot.name}-{n}.jpg", photo)
    lib.wait_ready()
    try:
        yield lib
    finally:
        server.stop()


def trip_title(library: Library) -> str:
    """A trip is named by its most photographed place, as the offline geocoder names it (the
    middle of Lisbon is its Intendente quarter in GeoNames)."""
    found = library.get("/api/v1/search", bbox="38,-10,39,-9", limit="1")["items"][0]
    return f"A trip to {found['location']['place']['city']}"


def _cards_loaded(page: Page) -> None:
    page.wait_for_function(
        """() => { const imgs = [...document.querySelectorAll('.memory-card img')];
        return imgs.length > 0 && imgs.every(img => img.complete && img.naturalWidth > 0); }"""
    )


def test_the_start_page_shows_this_day_and_the_trip(page: Page, library: Library) -> None:
    strip = page.get_by_role("region", name="Memories")
    expect(strip).to_be_visible()
    titles = strip.locator(".memory-title")
    expect(titles).to_have_text(["3 years ago", "6 years ago", trip_title(library)])
    _cards_loaded(page)
    for card in strip.locator(".memory-card").all():
        # the photo is what is seen above its title (the title's shade lies over its foot)
        seen = card.locator("img").evaluate(
            """img => { const box = img.getBoundingClientRect();
            return document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 3)
                === img; }"""
        )
        assert seen
    expect(strip.locator(".memory-date").last).to_contain_text(str(TODAY.year))
    screenshot(page, "memories")
    assert axe_violations(page) == []


def test_a_memory_opens_as_a_story_and_plays(page: Page, library: Library) -> None:
    page.get_by_role("link", name=trip_title(library)).click()
    expect(page.get_by_role("heading", name=trip_title(library))).to_be_visible()
    expect(page.locator(".memory-places")).to_contain_text("Portugal")
    tiles = page.locator(".tile")
    expect(tiles).to_have_count(4)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.tile img')].every(i => i.complete && i.naturalWidth)"
    )
    screenshot(page, "memory")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Play").click()
    viewer = page.locator("dialog.viewer")
    expect(viewer).to_be_visible()
    slideshow = viewer.get_by_role("button", name="Slideshow")
    expect(slideshow).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")


def test_a_memory_is_hidden_and_the_undo_brings_it_back(page: Page, library: Library) -> None:
    trip = trip_title(library)
    strip = page.get_by_role("region", name="Memories")
    expect(strip.locator(".memory-card")).to_have_count(3)
    strip.get_by_role("button", name="Hide “6 years ago”").click()
    expect(strip.locator(".memory-title")).to_have_text(["3 years ago", trip])
    page.reload()  # it stays hidden
    expect(page.get_by_role("region", name="Memories").locator(".memory-card")).to_have_count(2)
    strip = page.get_by_role("region", name="Memories")
    strip.get_by_role("button", name="Hide “3 years ago”").click()
    page.locator("#toast").get_by_role("button", name="Undo").click()
    expect(strip.locator(".memory-title")).to_have_text(["3 years ago", trip])
    page.goto(f"/memories/on-this-day-{TODAY.replace(year=TODAY.year - 6).isoformat()}")
    expect(page.locator(".tile")).to_have_count(1)  # a hidden memory still opens by its address
    page.get_by_role("button", name="Hide").click()  # already hidden: stays so
    page.locator("#toast").get_by_role("button", name="Undo").click()
    page.goto("/")
    expect(page.get_by_role("region", name="Memories").locator(".memory-card")).to_have_count(3)


def test_a_memory_is_shared_as_an_album_with_a_link(page: Page, library: Library) -> None:
    page.get_by_role("link", name=trip_title(library)).click()
    page.get_by_role("button", name="Share").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_contain_text(trip_title(library))
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_label("Anyone with this link can see it").input_value()
    album = next(a for a in library.get("/api/v1/albums") if a["name"].startswith("A trip to"))
    assert album["photo_count"] == 4
    assert "/s/" in link


def test_a_phone_shows_the_memories_above_the_photos(browser: Browser, library: Library) -> None:
    context = browser.new_context(
        base_url=library.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    tab = context.new_page()
    sign_in(tab, library)
    strip = tab.get_by_role("region", name="Memories")
    expect(strip.locator(".memory-card").first).to_be_in_viewport()
    _cards_loaded(tab)
    box = strip.bounding_box()
    assert box is not None
    assert box["width"] <= 390
    screenshot(tab, "memories-phone")
    assert axe_violations(tab) == []
    context.close()
