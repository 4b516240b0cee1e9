"""The cache optimizer's rules: from live figures, what to change in each cache level and why.

- A level whose hit ratio is under 80% (over at least ``MIN_READS`` reads) grows by half,
  up to the ceiling it is allowed (a share of the host's memory for L1, Redis's own for L2).
- A level evicting more than 10,000 entries an hour: one with a TTL gets it halved, so that
  entries nobody asks for again leave before they crowd out those that are (not under a
  minute); one without a TTL (the in-process LRU) grows instead, by the first rule's step.
"""

from __future__ import annotations

from dataclasses import dataclass

from albumen.domain.monitoring import CacheFigures

HIT_RATIO_TARGET = 0.80
GROWTH = 1.5
EVICTIONS_PER_HOUR = 10_000
MIN_READS = 500  # fewer reads than this say nothing about a hit ratio
MIN_TTL_SECONDS = 60


@dataclass(frozen=True, slots=True)
class LevelSettings:
    """What can be tuned in one level now."""

    level: str
    capacity_bytes: int
    ceiling_bytes: int  # never recommend more than this
    ttl_seconds: int | None  # None: entries do not expire (an LRU)


@dataclass(frozen=True, slots=True)
class Recommendation:
    level: str
    setting: str  # "capacity_bytes" or "ttl_seconds"
    current: int
    proposed: int
    reason: str


def recommend(
    figures: list[CacheFigures], levels: dict[str, LevelSettings]
) -> list[Recommendation]:
    found: list[Recommendation] = []
    for cache in figures:
        tuning = levels.get(cache.level)
        if tuning is None:
            continue
        reads = cache.hits + cache.misses
        grow_reason = None
        if (
            cache.hit_ratio is not None
            and reads >= MIN_READS
            and cache.hit_ratio < HIT_RATIO_TARGET
        ):
            grow_reason = (
                f"hit ratio {cache.hit_ratio:.0%} over {reads:,} reads is under "
                f"{HIT_RATIO_TARGET:.0%}: a bigger cache keeps more of what is asked for again"
            )
        many_evictions = cache.evictions_per_hour > EVICTIONS_PER_HOUR
        if many_evictions and tuning.ttl_seconds is not None:
            proposed = max(MIN_TTL_SECONDS, tuning.ttl_seconds // 2)
            if proposed < tuning.ttl_seconds:
                found.append(
                    Recommendation(
                        cache.level,
                        "ttl_seconds",
                        tuning.ttl_seconds,
                        proposed,
                        f"{cache.evictions_per_hour:,.0f} evictions an hour (over "
                        f"{EVICTIONS_PER_HOUR:,}): memory runs out before entries expire, so a "
                        "shorter TTL lets the ones nobody reads again go first",
                    )
                )
        elif many_evictions and grow_reason is None:
            grow_reason = (
                f"{cache.evictions_per_hour:,.0f} evictions an hour (over {EVICTIONS_PER_HOUR:,})"
                " in a level without a TTL: only more room keeps entries longer"
            )
        if grow_reason is not None:
            proposed = min(int(tuning.capacity_bytes * GROWTH), tuning.ceiling_bytes)
            if proposed > tuning.capacity_bytes:
                found.append(
                    Recommendation(
                        cache.level, "capacity_bytes", tuning.capacity_bytes, proposed, grow_reason
                    )
                )
            else:
                found.append(
                    Recommendation(
                        cache.level,
                        "capacity_bytes",
                        tuning.capacity_bytes,
                        tuning.capacity_bytes,
                        grow_reason + f"; but it is at its ceiling ({tuning.ceiling_bytes:,} B)",
                    )
                )
    return found


@dataclass(frozen=True, slots=True)
class PrefetchStats:
    """The prefetcher's counts since this process started."""

    predictions: dict[tuple[str, str], int]  # (kind, action: warmed|shadow|cached) -> count
    outcomes: dict[tuple[str, str], int]  # (kind, outcome: hit|miss) -> count
    bytes: dict[str, int]  # warmed; of them used (read after), late (read while warming), wasted
