"""The map in a real browser (#16): the offline world drawn under the photos, clusters that
show their newest photo and their count, a cluster's photos as a grid that opens the viewer,
an album's map, and a phone's. Checked on the screen: pixels, what is on top, visible text."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import requests
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.api.test_map import EXIF_IFD, GPS_IFD, Spot, _dms
from tests.browser.conftest import PASSWORD, Library, axe_violations, screenshot, sign_in
from tests.conftest import make_jpeg
from tests.live import LiveServer

PARIS = Spot("paris", 48.8584, 2.2945)
TOKYO = Spot("tokyo", 35.6586, 139.7454)
SYDNEY = Spot("sydney", -33.8568, 151.2153)
PLACES = {PARIS: 5, TOKYO: 3, SYDNEY: 2}  # photos taken there
SEA = np.array([0xB9, 0xD3, 0xE3])
LAND = np.array([0xF2, 0xEF, 0xE9])


def colour_jpeg(colour: tuple[int, int, int], spot: Spot, day: int) -> bytes:
    """A photo of one flat colour (so a marker's few pixels can be told apart), at a place."""
    exif = {
        EXIF_IFD: {0x9003: f"2022:05:{day:02d} 10:00:00"},
        GPS_IFD: {
            1: "N" if spot.lat >= 0 else "S",
            2: _dms(spot.lat),
            3: "E" if spot.lon >= 0 else "W",
            4: _dms(spot.lon),
        },
    }
    image = Image.new("RGB", (400, 300), colour)
    tags = Image.open(io.BytesIO(make_jpeg(8, 8, exif=exif))).getexif()
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=tags.tobytes())
    return out.getvalue()


COLOURS = {PARIS: (200, 30, 30), TOKYO: (30, 160, 40), SYDNEY: (40, 60, 200)}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    folder = tmp_path_factory.mktemp("map")
    server = LiveServer(folder / "data", ALBUMEN_ANALYSIS="false")
    key = server.cli("users", "add", "alice")
    server.cli("users", "passwd", "alice", "--password", PASSWORD)
    server.start()
    lib = Library(server, key)
    for spot, count in PLACES.items():
        for day in range(1, count + 1):  # the newest of each place is its last day
            red, green, blue = (max(0, c - 8 * (count - day)) for c in COLOURS[spot])
            lib.upload(f"{spot.name}-{day}.jpg", colour_jpeg((red, green, blue), spot, day))
    lib.upload("nowhere.jpg", make_jpeg(seed=3))
    lib.wait_ready()
    try:
        yield lib
    finally:
        server.stop()


def _pixels(page: Page, selector: str) -> np.ndarray:
    box = page.locator(selector).bounding_box()
    assert box is not None
    shot = Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB")
    return np.asarray(shot, dtype=np.int16)


def _share_near(pixels: np.ndarray, colour: np.ndarray, within: int = 12) -> float:
    close = np.abs(pixels - colour).max(axis=2) <= within
    return float(close.mean())


def _markers_loaded(page: Page) -> None:
    page.wait_for_function(
        """() => { const pins = [...document.querySelectorAll('.map-marker img')];
        return pins.length > 0 && pins.every(img => img.complete && img.naturalWidth > 0); }"""
    )


def test_the_map_draws_the_world_and_a_cluster_per_place(page: Page) -> None:
    page.get_by_role("link", name="Map").click()
    expect(page.get_by_role("heading", name="Map")).to_be_visible()
    status = page.get_by_role("status").filter(has_text="in view")
    expect(status).to_have_text("10 photos in view")  # the photo without a place is on no map
    _markers_loaded(page)
    markers = page.locator(".map-marker")
    expect(markers).to_have_count(3)
    # the offline world is drawn: sea and land, not a blank box
    world = _pixels(page, ".map-canvas")
    assert _share_near(world, SEA) > 0.2
    assert _share_near(world, LAND) > 0.05
    counts = {}
    for marker in markers.all():
        label = marker.get_attribute("aria-label") or ""
        counts[marker.locator(".map-count").inner_text()] = label
        # the cluster's photo is what a person sees there: on top, and in its colour
        box = marker.bounding_box()
        assert box is not None
        on_top = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.closest('.map-marker') !== null",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top, label
    assert set(counts) == {"5", "3", "2"}
    for count, spot in ((5, PARIS), (3, TOKYO), (2, SYDNEY)):
        pin = page.locator(f".map-marker[data-count='{count}'] img")
        seen = _pixels(page, f".map-marker[data-count='{count}'] img")
        middle = seen[8:-8, 8:-8].reshape(-1, 3).mean(axis=0)
        assert np.abs(middle - np.array(COLOURS[spot])).max() < 30, (spot.name, middle)
        expect(pin).to_be_visible()
    screenshot(page, "map")
    assert axe_violations(page) == []


def test_a_cluster_opens_its_photos_as_a_grid_and_the_viewer(page: Page) -> None:
    page.goto("/map")
    expect(page.get_by_role("status").filter(has_text="in view")).to_have_text("10 photos in view")
    _markers_loaded(page)
    page.locator(".map-marker[data-count='5']").click()
    panel = page.get_by_role("complementary", name="Photos here")
    expect(panel.get_by_role("heading", name="5 photos")).to_be_visible()
    tiles = panel.locator(".tile")
    expect(tiles).to_have_count(5)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.map-panel .tile img')]
        .every(img => img.complete && img.naturalWidth > 0)"""
    )
    screenshot(page, "map-cluster")
    assert axe_violations(page) == []
    tiles.first.click()
    viewer = page.locator("dialog.viewer")
    expect(viewer).to_be_visible()
    expect(viewer.locator(".viewer-title")).to_have_text("paris-5.jpg")  # the newest first
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()
    # the keyboard reaches a cluster too
    page.locator(".map-marker[data-count='3']").focus()
    page.keyboard.press("Enter")
    expect(panel.get_by_role("heading", name="3 photos")).to_be_visible()
    expect(page.locator(".map-marker[data-count='3']")).to_be_in_viewport()


def test_an_albums_map_holds_only_its_photos(page: Page, library: Library) -> None:
    found = library.get("/api/v1/search", bbox="35,139,36,140", limit="10")["items"]
    tokyo = [photo["id"] for photo in found]
    assert len(tokyo) == 3
    album = requests.post(
        f"{library.url}/api/v1/albums", headers=library.headers, json={"name": "Japan"}
    ).json()
    requests.put(
        f"{library.url}/api/v1/albums/{album['id']}/photos",
        headers=library.headers,
        json={"ids": tokyo},
    ).raise_for_status()
    page.goto(f"/albums/{album['id']}")
    page.get_by_role("link", name="Show on map").click()
    expect(page.get_by_role("heading", name="Map of Japan")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="in view")).to_have_text("3 photos in view")
    _markers_loaded(page)
    expect(page.locator(".map-marker")).to_have_count(1)


def test_a_phone_shows_the_map_and_a_cluster_below_it(browser: Browser, library: Library) -> None:
    context = browser.new_context(
        base_url=library.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    tab = context.new_page()
    sign_in(tab, library)
    tab.goto("/map")
    expect(tab.get_by_role("status").filter(has_text="in view")).to_have_text("10 photos in view")
    _markers_loaded(tab)
    canvas = tab.locator(".map-canvas").bounding_box()
    assert canvas is not None
    assert canvas["width"] >= 360
    assert canvas["height"] >= 400
    counts = [int(m.get_attribute("data-count") or 0) for m in tab.locator(".map-marker").all()]
    assert sum(counts) == 10  # a phone's world is smaller: places may share a cluster
    tab.locator(".map-marker").first.tap()
    panel = tab.get_by_role("complementary", name="Photos here")
    expect(panel.get_by_role("heading", name=f"{counts[0]} photos")).to_be_in_viewport()
    expect(panel.locator(".tile")).to_have_count(counts[0])
    panel_box, map_box = panel.bounding_box(), tab.locator(".map-canvas").bounding_box()
    assert panel_box is not None
    assert map_box is not None
    assert panel_box["y"] >= map_box["y"] + 100  # below the map
    screenshot(tab, "map-phone")
    assert axe_violations(tab) == []
    context.close()


def test_the_map_without_located_photos_says_why(browser: Browser, library: Library) -> None:
    library.server.cli("users", "add", "newcomer")
    library.server.cli("users", "passwd", "newcomer", "--password", PASSWORD)
    context = browser.new_context(base_url=library.url)
    tab = context.new_page()
    tab.goto("/login")
    tab.get_by_label("User name").fill("newcomer")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(f"{library.url}/")
    tab.goto("/map")
    expect(tab.get_by_role("status").filter(has_text="location")).to_have_text(
        "No photo has a location yet: photos taken with a phone's location on appear here."
    )
    expect(tab.locator(".map-marker")).to_have_count(0)
    context.close()


def test_a_share_visitor_sees_the_map_only_where_the_owner_allowed_it(
    page: Page, browser: Browser, library: Library
) -> None:
    found = library.get("/api/v1/search", bbox="-40,140,-30,160", limit="10")["items"]
    album = requests.post(
        f"{library.url}/api/v1/albums", headers=library.headers, json={"name": "Sydney"}
    ).json()
    requests.put(
        f"{library.url}/api/v1/albums/{album['id']}/photos",
        headers=library.headers,
        json={"ids": [photo["id"] for photo in found]},
    ).raise_for_status()
    links = {}
    for shown in (True, False):
        page.goto(f"/albums/{album['id']}")
        page.get_by_role("button", name="Share link").click()
        dialog = page.get_by_role("dialog")
        map_box = dialog.get_by_label("Show where the photos were taken, on a map")
        expect(map_box).not_to_be_checked()  # off unless the owner says so
        if shown:
            map_box.check()
        dialog.get_by_role("button", name="Create link").click()
        links[shown] = dialog.get_by_label("Anyone with this link can see it").input_value()
        page.keyboard.press("Escape")

    visitor = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = visitor.new_page()
    tab.goto(links[False])
    expect(tab.get_by_role("heading", name="Sydney")).to_be_visible()
    expect(tab.get_by_role("link", name="Show on map")).to_have_count(0)
    tab.goto(links[True])
    tab.get_by_role("link", name="Show on map").click()
    expect(tab.get_by_role("status").filter(has_text="in view")).to_have_text("2 photos in view")
    _markers_loaded(tab)
    tab.locator(".map-marker").first.click()
    panel = tab.get_by_role("complementary", name="Photos here")
    expect(panel.get_by_role("heading", name="2 photos")).to_be_visible()
    expect(panel.locator(".tile")).to_have_count(2)
    tab.wait_for_function(
        """() => [...document.querySelectorAll('.map-panel .tile img')]
        .every(img => img.complete && img.naturalWidth > 0)"""
    )
    screenshot(tab, "map-share")
    assert axe_violations(tab) == []
    panel.locator(".tile").first.click()
    expect(tab.locator("dialog.viewer .viewer-title")).to_have_text("sydney-2.jpg")
    visitor.close()
