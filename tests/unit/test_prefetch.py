"""The prefetcher learns what each user opens next, and warms only what is likely enough."""

from __future__ import annotations

import functools

from albumen.domain.photos import ThumbFormat, ThumbSize
from albumen.services.prefetch import PrefetchService

PREVIEW, THUMB, WEBP = ThumbSize.PREVIEW, ThumbSize.THUMB, ThumbFormat.WEBP


class Warmer:
    def __init__(self) -> None:
        self.warmed: list[tuple[str, str, ThumbSize]] = []

    def __call__(self, user: str, photo: str, size: ThumbSize, fmt: ThumbFormat) -> int:
        self.warmed.append((user, photo, size))
        return 1000


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _settle(prefetch: PrefetchService) -> None:
    """Wait for the warming pool to finish what it was given."""
    assert prefetch.wait_idle(timeout=10)


def _walk(prefetch: PrefetchService, user: str, photos: list[str], clock: Clock) -> None:
    """The user opens each photo's preview in order, a few seconds apart."""
    for photo in photos:
        clock.now += 3
        prefetch.viewed(user, photo, PREVIEW, WEBP)


def test_a_user_who_walks_forward_gets_the_next_preview_warmed() -> None:
    warmer, clock = Warmer(), Clock()
    prefetch = PrefetchService(warmer, threshold=0.7, window=60, clock=clock)
    listing = [f"p{n}" for n in range(40)]
    prefetch.listed("ann", listing)
    assert prefetch.probability("ann", "next") == 0.5  # nothing known yet: a shadow
    _walk(prefetch, "ann", listing[:12], clock)
    assert prefetch.probability("ann", "next") >= 0.7
    assert prefetch.probability("ann", "previous") < 0.7  # she never goes back
    clock.now += 3
    prefetch.viewed("ann", listing[12], PREVIEW, WEBP)
    _settle(prefetch)
    previews = [w[1] for w in warmer.warmed if w[2] is PREVIEW]
    assert listing[13] in previews  # the one she will open next is in the cache already
    made = prefetch.stats().predictions
    assert ("previous", "warmed") not in made  # going back is not her habit: never warmed
    assert made[("previous", "shadow")] >= 12
    prefetch.close()


def test_habits_are_per_user_and_unread_warming_counts_as_waste() -> None:
    warmer, clock = Warmer(), Clock()
    prefetch = PrefetchService(warmer, threshold=0.7, window=60, clock=clock)
    listing = [f"p{n}" for n in range(40)]
    for user in ("ann", "bob"):
        prefetch.listed(user, listing)
    _walk(prefetch, "ann", listing[:15], clock)
    _walk(prefetch, "bob", list(reversed(listing[20:35])), clock)  # bob walks backwards
    clock.now += 61  # what each predicted and did not open is a miss now
    assert prefetch.probability("bob", "previous") >= 0.7
    assert prefetch.probability("bob", "next") < 0.7
    assert prefetch.probability("ann", "next") >= 0.7

    clock.now += 3
    prefetch.viewed("ann", listing[30], PREVIEW, WEBP)  # she jumps, then stops
    _settle(prefetch)
    clock.now += 120  # nobody opens the next one in the window
    stats = prefetch.stats()
    assert stats.bytes["wasted"] >= 1000
    assert stats.outcomes[("next", "miss")] >= 1
    assert stats.outcomes[("next", "hit")] >= 14
    prefetch.close()


def test_a_page_just_listed_predicts_its_first_thumbnails() -> None:
    warmer, clock = Warmer(), Clock()
    prefetch = PrefetchService(warmer, threshold=0.7, window=60, clock=clock)
    for page in range(3):
        ids = [f"q{page}-{n}" for n in range(50)]
        prefetch.listed("cy", ids)
        for photo in ids[:30]:
            prefetch.viewed("cy", photo, ThumbSize.THUMB, WEBP)
    assert prefetch.probability("cy", "page") >= 0.7
    _settle(prefetch)
    prefetch.listed("cy", [f"r{n}" for n in range(50)])
    _settle(prefetch)
    assert any(w[1] == "r0" for w in warmer.warmed)
    prefetch.close()


def test_a_user_who_scrolls_on_gets_the_next_page_warmed_before_asking() -> None:
    warmer, clock = Warmer(), Clock()
    prefetch = PrefetchService(warmer, threshold=0.7, window=60, clock=clock)
    fetched: list[str] = []

    def page(n: int) -> list[str]:
        return [f"s{n}-{i}" for i in range(40)]

    def next_page(n: int) -> list[str]:
        fetched.append(f"c{n + 1}")
        return page(n + 1)

    for n in range(6):  # scrolls through six pages, each asked for with the last cursor
        clock.now += 5
        cursor = f"c{n}" if n else None
        prefetch.listed("dee", page(n), cursor, f"c{n + 1}", functools.partial(next_page, n))
    _settle(prefetch)
    assert prefetch.probability("dee", "next_page") >= 0.7
    assert fetched  # the pages after were fetched ahead once it was likely enough
    assert ("dee", "s6-0", THUMB) in warmer.warmed  # the page not yet asked for is warm
