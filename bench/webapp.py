"""The web app in Chromium, on a 10,000-photo library (``BENCH_WEB_PHOTOS``) made through
Albumen's own ingest and thumbnail jobs:

- **first thumbnails**: from the click on "Photos" to every thumbnail of the first screen
  decoded, in a fresh browser profile (no image cached), against a bare HTML page of the same
  thumbnail URLs from the same server (the reference: what loading those images costs at all);
- **scroll smoothness**: scroll through a year of the timeline at 4,000 px/s, recording each
  frame with requestAnimationFrame; frames over 50 ms are jank.

Run alone with ``python -m bench.webapp``; ``make bench`` includes it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright
from tests.browser.chromium import ARGS, CHROMIUM

from albumen.app.root import build as build_albumen
from albumen.config import Settings
from bench.server import Server

ROOT = Path(__file__).resolve().parent
PHOTOS = int(os.environ.get("BENCH_WEB_PHOTOS", "10000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
VERSION = 1
PASSWORD = "bench password"
# Every thumbnail on the first screen has arrived and decoded.
ON_SCREEN = """() => {
  const imgs = [...document.querySelectorAll('.tile img')]
    .filter(i => i.getBoundingClientRect().top < innerHeight);
  return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""
FIRST_SCREEN = """() => [...document.querySelectorAll('.tile')]
  .filter(t => t.getBoundingClientRect().top < innerHeight).map(t => t.dataset.id)"""
BARE_LOADED = """(n) => {
  const imgs = [...document.images];
  return imgs.length === n && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""


def photo(when: datetime, seed: int) -> bytes:
    """A small, distinct JPEG with its date of capture."""
    image = Image.new("RGB", (400, 300), ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    image.paste(((seed * 7) % 256, 128, 200), (seed % 300, seed % 200, seed % 300 + 100, 300))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif.tobytes())
    return out.getvalue()


def build(data_dir: Path) -> None:
    """PHOTOS photos over three years, ingested and processed as uploads are."""
    built = build_albumen(Settings(data_dir=data_dir, analysis=False))
    owner = built.services.users.add("bench").user
    built.services.users.set_password("bench", PASSWORD)
    start, span = datetime(2022, 1, 1), timedelta(days=3 * 365)
    began = time.perf_counter()
    for n in range(PHOTOS):
        writer = built.services.photos.stage()
        writer.write(photo(start + span * n / PHOTOS, n))
        built.services.photos.ingest(owner.id, f"IMG_{n:05}.jpg", writer.finish())
        if n % 1000 == 999:
            built.infrastructure.queue.run_pending()
            print(f"  {n + 1:,} photos, {time.perf_counter() - began:.0f} s", file=sys.stderr)
    built.infrastructure.queue.run_pending()
    built.close()
    (data_dir / "built").write_text(json.dumps({"version": VERSION, "photos": PHOTOS}))


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill("bench")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")


def first_thumbnails(browser, url: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Median ms to the first thumbnails, the app against a bare page of the same images."""
    app_ms, bare_ms = [], []
    for _ in range(REPEATS):
        for timings, bare in ((app_ms, False), (bare_ms, True)):
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            sign_in(page, url)  # a fresh profile: no image in its cache
            page.wait_for_function(ON_SCREEN, timeout=60_000)
            ids = page.evaluate(FIRST_SCREEN)
            context.close()
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            sign_in(page, url)
            if bare:
                html = "".join(
                    f'<img src="{url}/api/v1/photos/{i}/thumbnail" width=200 height=150>'
                    for i in ids
                )
                page.goto(f"{url}/static/app.css")  # same origin, so the cookie goes
                started = page.evaluate("() => performance.now()")
                page.evaluate("html => { document.body.innerHTML = html; }", html)
                page.wait_for_function(BARE_LOADED, arg=len(ids), timeout=60_000)
                timings.append(page.evaluate("() => performance.now()") - started)
            else:
                page.goto(f"{url}/favorites")  # somewhere else first, then the timeline
                page.evaluate("() => window.scrollTo(0, 0)")
                started = page.evaluate("() => performance.now()")
                page.get_by_role("link", name="Photos", exact=True).click()
                page.wait_for_function(ON_SCREEN, timeout=60_000)
                timings.append(page.evaluate("() => performance.now()") - started)
            context.close()
    app, bare = statistics.median(app_ms), statistics.median(bare_ms)
    return {
        "app_ms": round(app, 1),
        "bare_page_ms": round(bare, 1),
        "ratio": round(app / bare, 2),
        "thumbnails_on_first_screen": len(ids),
        "runs": REPEATS,
    }


SCROLL = """async (pixels) => {
  const frames = [];
  const speed = 4000 / 1000; // px per ms
  let last = performance.now();
  const start = last;
  const top = window.scrollY;
  await new Promise((resolve) => {
    const step = (now) => {
      frames.push(now - last);
      last = now;
      const y = top + (now - start) * speed;
      window.scrollTo(0, y);
      if (y - top >= pixels) resolve(); else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  return frames.slice(1);
}"""


def scroll_a_year(browser, url: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Frames while scrolling through the twelve newest months."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, url)
    page.wait_for_function(ON_SCREEN, timeout=60_000)
    pixels = page.evaluate(
        "() => [...document.querySelectorAll('section.section')].slice(0, 12)"
        ".reduce((sum, s) => sum + s.offsetHeight, 0)"
    )
    frames: list[float] = []
    for _ in range(REPEATS):
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(500)
        frames += page.evaluate(SCROLL, pixels)
    context.close()
    frames.sort()
    return {
        "pixels_per_year": pixels,
        "frames": len(frames),
        "frames_over_50ms": sum(f > 50 for f in frames),
        "share_over_50ms": round(sum(f > 50 for f in frames) / len(frames), 4),
        "frame_ms_p50": round(frames[len(frames) // 2], 1),
        "frame_ms_p95": round(frames[int(len(frames) * 0.95)], 1),
        "frame_ms_max": round(frames[-1], 1),
    }


def main() -> dict[str, object]:
    if not Path(CHROMIUM).is_file():
        return {"skipped": "no Chromium (Debian: apt-get install chromium)"}
    data_dir = ROOT / "tmp-webapp" / f"{PHOTOS}"
    built = data_dir / "built"
    if not built.exists() or json.loads(built.read_text())["version"] != VERSION:
        if data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True)
        began = time.perf_counter()
        build(data_dir)
        print(f"built {PHOTOS:,} photos in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    with Server(data_dir) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            result: dict[str, object] = {"photos": PHOTOS}
            result["first_thumbnails"] = first_thumbnails(browser, server.url)
            result["scroll_a_year"] = scroll_a_year(browser, server.url)
        finally:
            browser.close()
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
