"""``PrefetchService``: warms the cache with what a user will most likely open next.

It watches what each user is shown and opens, and makes predictions of several kinds:

- ``page``: a listing (timeline, album, person, place, search) was just served, so the
  thumbnails of its first screenful will be asked for;
- ``next_page``: the user will scroll on, to the next page of that listing (its first
  thumbnails are warmed before the page is even asked for);
- ``next`` / ``previous`` / ``next2``: a preview was opened (the viewer), so the preview of
  its neighbour in the listing it came from (one after, one before, two after) will be next.

Every prediction is checked against what the user then opens within ``window`` seconds, so
each kind keeps its measured precision, per user and overall. The probability of a prediction
is its kind's precision for this user, shrunk toward the kind's precision over everyone while
the user's own record is short (a Beta prior worth ``PRIOR`` predictions): the user's habits
win as they show. Only predictions at or above ``threshold`` (0.7) are warmed; the others are
kept as shadows, which is how a kind earns its way up. Warming runs on a small pool and gives
up when the pool is busy, so a burst never queues work nobody will wait for.

Figures: predictions made, warmed, found already cached; hits and misses per kind; bytes
warmed, and of them: read after the warming (``used``), read while it was still warming
(``late``: no help), never read in the window (``wasted``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from albumen.domain.caching import PrefetchStats
from albumen.domain.errors import AlbumenError
from albumen.domain.photos import ThumbFormat, ThumbSize

log = logging.getLogger(__name__)
PRIOR = 10  # predictions' worth of the overall precision, for a user with a short record
PAGE_AHEAD = 30  # thumbnails of a listing predicted to be asked for: about a screenful
LISTINGS_KEPT = 5  # per user, the contexts a preview's neighbours are looked up in
PENDING_MAX = 2000  # per user
PAGE_PREFIX = "page:"  # a pending guess that a listing will ask for this cursor
Key = tuple[str, ThumbSize]  # photo id, size
Warm = Callable[[str, str, ThumbSize, ThumbFormat], int | None]  # -> bytes warmed, None: held


@dataclass(slots=True)
class _Prediction:
    kinds: list[str]  # every kind that predicted this read (they are scored alike)
    made_at: float
    warmed: bool = False  # a warming was started
    warmed_bytes: int = 0  # 0: a shadow, already cached, or not warmed yet
    hit: bool | None = None  # None while pending


@dataclass(slots=True)
class _User:
    listings: deque[list[str]] = field(default_factory=lambda: deque(maxlen=LISTINGS_KEPT))
    pending: dict[Key, _Prediction] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    made: dict[str, int] = field(default_factory=dict)
    fmt: ThumbFormat = ThumbFormat.WEBP


class PrefetchService:
    def __init__(
        self,
        warm: Warm,
        threshold: float = 0.7,
        window: float = 120.0,
        workers: int = 2,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._warm = warm
        self.threshold = threshold
        self._window = window
        self.enabled = enabled
        self._clock = clock
        self._users: dict[str, _User] = {}
        self._hits: dict[str, int] = {}
        self._made: dict[str, int] = {}
        self._predictions: dict[tuple[str, str], int] = {}
        self._outcomes: dict[tuple[str, str], int] = {}
        self._bytes = {"warmed": 0, "used": 0, "late": 0, "wasted": 0}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="prefetch")
        self._busy = threading.BoundedSemaphore(workers * 32)
        self._running = 0  # warmings submitted and not finished
        self._idle = threading.Condition(threading.Lock())

    # what users are shown and open

    def listed(
        self,
        user_id: str,
        photo_ids: list[str],
        cursor: str | None = None,
        next_cursor: str | None = None,
        next_page: Callable[[], list[str]] | None = None,
    ) -> None:
        """A page of photos was served to the user, in the order shown.

        ``cursor`` is the one the request sent (None: the first page); with ``next_cursor``
        and ``next_page`` (the ids of the page after, fetched only if worth it), scrolling on
        is predicted too: kind ``next_page``, scored when a listing asks for that cursor.
        """
        if not self.enabled or not photo_ids:
            return
        with self._lock:
            user = self._user(user_id)
            if cursor is not None:
                self._settle(user, (_page_key(cursor), ThumbSize.THUMB))
            user.listings.append(list(photo_ids))
            fmt = user.fmt
            wanted = [(pid, ThumbSize.THUMB, "page") for pid in photo_ids[:PAGE_AHEAD]]
            if next_cursor is not None and next_page is not None:
                wanted.append((_page_key(next_cursor), ThumbSize.THUMB, "next_page"))
            todo = self._predict(user_id, user, wanted)
        pages = [item for item in todo if item[0][0].startswith(PAGE_PREFIX)]
        self._start(user_id, [item for item in todo if item not in pages], fmt)
        for key, prediction in pages:
            if next_page is not None:
                self._submit(self._warm_page, user_id, key, prediction, next_page, fmt)

    def viewed(self, user_id: str, photo_id: str, size: ThumbSize, fmt: ThumbFormat) -> None:
        """The user read a thumbnail or preview."""
        if not self.enabled:
            return
        with self._lock:
            user = self._user(user_id)
            user.fmt = fmt
            self._settle(user, (photo_id, size))
            todo: list[tuple[Key, _Prediction]] = []
            if size is ThumbSize.PREVIEW:
                wanted = [
                    (neighbour, ThumbSize.PREVIEW, kind)
                    for kind, offset in (("next", 1), ("previous", -1), ("next2", 2))
                    if (neighbour := _neighbour(user, photo_id, offset)) is not None
                ]
                todo = self._predict(user_id, user, wanted)
        self._start(user_id, todo, fmt)

    def probability(self, user_id: str, kind: str) -> float:
        with self._lock:
            user = self._user(user_id)
            self._expire(user, self._clock())
            return self._probability(user, kind)

    def stats(self) -> PrefetchStats:
        with self._lock:
            now = self._clock()
            for user in self._users.values():
                self._expire(user, now)
            return PrefetchStats(dict(self._predictions), dict(self._outcomes), dict(self._bytes))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every warming started so far has finished; False if ``timeout`` ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # bookkeeping (under the lock)

    def _user(self, user_id: str) -> _User:
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _User()
        return user

    def _probability(self, user: _User, kind: str) -> float:
        overall = (self._hits.get(kind, 0) + 1) / (self._made.get(kind, 0) + 2)
        hits, made = user.hits.get(kind, 0), user.made.get(kind, 0)
        return (hits + PRIOR * overall) / (made + PRIOR)

    def _predict(
        self, user_id: str, user: _User, wanted: list[tuple[str, ThumbSize, str]]
    ) -> list[tuple[Key, _Prediction]]:
        """Note each prediction; the ones likely enough to warm."""
        now = self._clock()
        self._expire(user, now)
        todo = []
        for photo_id, size, kind in wanted:
            key = (photo_id, size)
            prediction = user.pending.get(key)
            if prediction is None:
                if len(user.pending) >= PENDING_MAX:
                    continue
                prediction = user.pending[key] = _Prediction([], now)
            if kind in prediction.kinds:
                continue
            prediction.kinds.append(kind)
            if not prediction.warmed and self._probability(user, kind) >= self.threshold:
                prediction.warmed = True
                todo.append((key, prediction))
            elif not prediction.warmed:
                self._count(self._predictions, (kind, "shadow"))
        return todo

    def _settle(self, user: _User, key: Key) -> None:
        self._expire(user, self._clock())
        found = user.pending.pop(key, None)
        if found is not None:
            self._score(user, found, hit=True)

    def _expire(self, user: _User, now: float) -> None:
        """Score as misses the guesses older than the window. ``pending`` keeps the order the
        guesses were made in, so this stops at the first young one (it runs per request)."""
        while user.pending:
            key, prediction = next(iter(user.pending.items()))
            if now - prediction.made_at <= self._window:
                return
            del user.pending[key]
            self._score(user, prediction, hit=False)

    def _score(self, user: _User, prediction: _Prediction, hit: bool) -> None:
        prediction.hit = hit
        for kind in prediction.kinds:
            for made in (user.made, self._made):
                made[kind] = made.get(kind, 0) + 1
            if hit:
                for hits in (user.hits, self._hits):
                    hits[kind] = hits.get(kind, 0) + 1
            self._count(self._outcomes, (kind, "hit" if hit else "miss"))
        if prediction.warmed_bytes:
            self._bytes["used" if hit else "wasted"] += prediction.warmed_bytes

    def _count(self, counts: dict[tuple[str, str], int], key: tuple[str, str]) -> None:
        counts[key] = counts.get(key, 0) + 1

    # warming (on the pool)

    def _start(self, user_id: str, todo: list[tuple[Key, _Prediction]], fmt: ThumbFormat) -> None:
        for key, prediction in todo:
            if not self._submit(self._warm_one, user_id, key, prediction, fmt):
                return

    def _submit(self, task: Callable[..., None], *args: object) -> bool:
        """Run ``task`` on the pool, unless it is busy: then the warming would arrive too late
        to matter, and it is dropped (False)."""
        if not self._busy.acquire(blocking=False):
            return False
        with self._idle:
            self._running += 1

        def run() -> None:
            try:
                task(*args)
            finally:
                self._busy.release()
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        self._pool.submit(run)
        return True

    def _warm_page(
        self,
        user_id: str,
        key: Key,
        prediction: _Prediction,
        next_page: Callable[[], list[str]],
        fmt: ThumbFormat,
    ) -> None:
        """The first thumbnails of the page the user will scroll to, before it is asked for."""

        def one(photo_id: str) -> int:
            try:
                return self._warm(user_id, photo_id, ThumbSize.THUMB, fmt) or 0
            except AlbumenError:
                return 0  # gone meanwhile

        try:
            warmed = sum(one(photo_id) for photo_id in next_page()[:PAGE_AHEAD])
        except Exception:
            log.exception("prefetch of the next page failed")
            warmed = 0
        self._warmed(prediction, warmed)

    def _warm_one(self, user_id: str, key: Key, prediction: _Prediction, fmt: ThumbFormat) -> None:
        photo_id, size = key
        try:
            warmed = self._warm(user_id, photo_id, size, fmt)
        except AlbumenError:
            warmed = None  # gone, or not viewable: nothing to warm
        except Exception:
            log.exception("prefetch failed", extra={"photo_id": photo_id})
            warmed = None
        self._warmed(prediction, warmed)

    def _warmed(self, prediction: _Prediction, warmed: int | None) -> None:
        with self._lock:
            self._count(self._predictions, (prediction.kinds[0], "warmed" if warmed else "cached"))
            if not warmed:
                return
            self._bytes["warmed"] += warmed
            if prediction.hit is None:
                prediction.warmed_bytes = warmed  # settled later: used, or wasted
            else:  # settled while it was warming: read too early to be helped, or not read
                self._bytes["late" if prediction.hit else "wasted"] += warmed


def _page_key(cursor: str) -> str:
    return f"{PAGE_PREFIX}{cursor}"


def _neighbour(user: _User, photo_id: str, offset: int) -> str | None:
    for listing in reversed(user.listings):
        try:
            at = listing.index(photo_id)
        except ValueError:
            continue
        return listing[at + offset] if 0 <= at + offset < len(listing) else None
    return None
