"""The web app in a real browser: sign in, timeline, viewer, albums, sharing, search, trash,
upload with a forced resume; screenshots of the main pages; no serious accessibility issue."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Library, axe_violations, screenshot

# The first thumbnails on screen have arrived and decoded.
LOADED = """() => [...document.querySelectorAll('.tile img')].slice(0, 4)
    .every(img => img.complete && img.naturalWidth > 0)"""


def test_the_timeline_shows_every_month_with_thumbnails(page: Page, library: Library) -> None:
    months = page.locator(".month")
    expect(months.filter(has_text="October 2023")).to_have_count(1)
    assert {"October 2023", "January 2021"} <= set(months.all_inner_texts())
    tiles = page.locator(".tile")
    expect(tiles.first).to_be_visible()
    page.wait_for_function(LOADED)
    screenshot(page, "timeline")
    assert axe_violations(page) == []
