"""``CacheOptimizer``: recommends, and optionally applies, size and TTL changes per cache level.

It reads the live figures of every level (hits, misses, evictions, over the sampler's
window), asks the rules in ``domain.caching`` what to change and why, and applies a
recommendation by resizing the level or changing its TTL. ``GET /api/v1/admin/cache`` shows
it; with ``ALBUMEN_CACHE_OPTIMIZER_APPLY`` the monitoring loop applies them as it goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from albumen.domain.caching import LevelSettings, Recommendation, recommend
from albumen.domain.monitoring import CacheFigures
from albumen.ports import TunableCache

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CacheReport:
    figures: list[CacheFigures]
    levels: list[LevelSettings]
    recommendations: list[Recommendation]
    applied: list[Recommendation] = field(default_factory=list)


class CacheOptimizer:
    def __init__(
        self,
        figures: Callable[[], list[CacheFigures]],
        levels: list[TunableCache],
        ceilings: dict[str, int],
        auto_apply: bool,
    ) -> None:
        self._figures = figures
        self._levels = {level.level: level for level in levels}
        self._ceilings = ceilings
        self.auto_apply = auto_apply
        self.applied: list[Recommendation] = []  # what this process changed, latest last

    def report(self) -> CacheReport:
        settings = [
            LevelSettings(
                name,
                level.capacity(),
                self._ceilings.get(name, level.capacity()),
                level.ttl_seconds,
            )
            for name, level in self._levels.items()
        ]
        figures = self._figures()
        found = recommend(figures, {s.level: s for s in settings})
        return CacheReport(figures, settings, found, list(self.applied))

    def apply(self) -> list[Recommendation]:
        """Carry out what the rules recommend now; what was changed."""
        done = []
        for rec in self.report().recommendations:
            if rec.proposed == rec.current:
                continue
            level = self._levels[rec.level]
            if rec.setting == "capacity_bytes":
                level.resize(rec.proposed)
            else:
                level.set_ttl(rec.proposed)
            log.info(
                "cache tuned",
                extra={"level": rec.level, "setting": rec.setting, "to": rec.proposed},
            )
            done.append(rec)
        self.applied = (self.applied + done)[-50:]
        return done

    def tune(self) -> None:
        """Apply when configured to (called by the monitoring loop)."""
        if self.auto_apply:
            self.apply()
