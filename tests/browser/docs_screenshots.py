"""``make screenshots``: the browser tests' screenshots of each page, into ``docs/screenshots/``
as WebP (what ``docs/web.md`` shows). Run after ``pytest tests/browser``; nothing here takes a
screenshot itself, so what the docs show is what the tests saw and checked."""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"  # where tests.browser.conftest writes them
DOCS = ROOT / "docs" / "screenshots"
# The screenshots docs/web.md shows, each taken by the test that checks that page.
SHOWN = (
    "timeline",
    "viewer",
    "viewer-zoomed",
    "viewer-keys",
    "album",
    "share",
    "search",
    "people",
    "duplicates",
    "map",
    "map-cluster",
    "memories",
    "memory",
    "admin",
    "sign-in",
    "phone-home",
    "phone-map",
    "phone-photos-photo",
    "phone-albums-album",
    "phone-s-token",
    "memories-phone",
)


def main() -> int:
    missing = [name for name in SHOWN if not (ARTIFACTS / f"{name}.png").is_file()]
    if missing:
        sys.stderr.write(f"run the browser tests first; missing: {', '.join(missing)}\n")
        return 1
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in SHOWN:
        with Image.open(ARTIFACTS / f"{name}.png") as shot:
            shot.convert("RGB").save(DOCS / f"{name}.webp", "WEBP", quality=80, method=6)
    sys.stdout.write(f"{len(SHOWN)} screenshots in {DOCS}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
