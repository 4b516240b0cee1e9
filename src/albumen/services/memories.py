"""``MemoryService``: the start page's memories (``domain.memories``), and hiding them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from albumen.domain.errors import NotFound
from albumen.domain.memories import (
    RECENT,
    Memory,
    MemoryKind,
    parse_key,
    ranked_places,
    same_day_earlier,
    trips,
)
from albumen.domain.photos import Page, TimelineCursor
from albumen.ports import Clock, MemoryRepo
from albumen.services.photos import check_limit

COVERS = 4  # photos shown for each memory


class MemoryService:
    def __init__(self, repo: MemoryRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def today(self) -> date:
        return self._clock.now().date()

    def memories(self, user_id: str, today: date) -> list[Memory]:
        """*On this day* in each earlier year (newest first), then the recent trips (newest
        first), less those the user hid. ``today`` is the user's own date (their clock may be a
        day from the server's)."""
        found = same_day_earlier(today, self._repo.days_on(user_id, today.month, today.day))
        home = self._repo.home(user_id)
        if home is not None:
            days = self._repo.located_days(user_id, today - RECENT - timedelta(days=60), today)
            found += trips(days, home, today)
        hidden = self._repo.hidden(user_id)
        found = [memory for memory in found if memory.key not in hidden]
        covers = self._repo.covers(user_id, [(m.start, m.end) for m in found], COVERS)
        shown = []
        for memory, cover_ids in zip(found, covers, strict=True):
            if not cover_ids:
                continue  # its photos are not ready yet
            if memory.kind is MemoryKind.TRIP:  # all its photos, located or not; and where
                count = self._repo.count_between(user_id, memory.start, memory.end)
                places = self._repo.places_between(user_id, memory.start, memory.end)
                memory = replace(memory, count=count, places=ranked_places(places))
            shown.append(replace(memory, cover_ids=tuple(cover_ids)))
        return shown

    def photos(self, user_id: str, key: str, limit: int, cursor: TimelineCursor | None) -> Page:
        """A memory's photos: the timeline's of its days, newest first."""
        check_limit(limit)
        start, end = self._check(user_id, key)
        return self._repo.photos_page(user_id, start, end, limit, cursor)

    def hide(self, user_id: str, key: str) -> None:
        self._check(user_id, key)
        self._repo.hide(user_id, key, self._clock.now())

    def show(self, user_id: str, key: str) -> None:
        """Show a hidden memory again (an undo)."""
        self._check(user_id, key)
        self._repo.show(user_id, key)

    def _check(self, user_id: str, key: str) -> tuple[date, date]:
        """A memory of the user's: its days hold photos of theirs (404 otherwise, as for
        anything of another user's). Its first and last day."""
        start, end = parse_key(key)
        if self._repo.count_between(user_id, start, end) == 0:
            raise NotFound("no such memory", code="memory_not_found")
        return start, end
