"""The cache optimizer's rules, on figures made up for each case."""

from __future__ import annotations

from albumen.domain.caching import LevelSettings, recommend
from albumen.domain.monitoring import CacheFigures

MB = 1024 * 1024
L1 = LevelSettings("l1", 100 * MB, 1000 * MB, None)
L2 = LevelSettings("l2", 64 * MB, 256 * MB, 86400)


def figures(level: str, hits: int, misses: int, evictions: float) -> CacheFigures:
    reads = hits + misses
    ratio = hits / reads if reads else None
    return CacheFigures(level, hits, misses, ratio, 0.0001, evictions, 10 * MB, 100 * MB)


def test_a_level_under_80_percent_grows_by_half() -> None:
    (rec,) = recommend([figures("l1", 700, 300, 0)], {"l1": L1})
    assert (rec.level, rec.setting, rec.current, rec.proposed) == (
        "l1",
        "capacity_bytes",
        100 * MB,
        150 * MB,
    )
    assert "hit ratio 70% over 1,000 reads is under 80%" in rec.reason


def test_a_healthy_level_or_too_few_reads_is_left_alone() -> None:
    assert recommend([figures("l1", 950, 50, 0)], {"l1": L1}) == []
    assert recommend([figures("l1", 10, 90, 0)], {"l1": L1}) == []  # 100 reads say nothing


def test_many_evictions_halve_a_ttl_or_grow_an_lru() -> None:
    (ttl,) = recommend([figures("l2", 990, 10, 20_000)], {"l2": L2})
    assert (ttl.setting, ttl.proposed) == ("ttl_seconds", 43200)
    assert "20,000 evictions an hour" in ttl.reason
    (grow,) = recommend([figures("l1", 990, 10, 20_000)], {"l1": L1})
    assert (grow.setting, grow.proposed) == ("capacity_bytes", 150 * MB)


def test_growth_stops_at_the_ceiling_and_says_so() -> None:
    full = LevelSettings("l1", 900 * MB, 1000 * MB, None)
    (rec,) = recommend([figures("l1", 100, 900, 0)], {"l1": full})
    assert rec.proposed == 1000 * MB
    at_ceiling = LevelSettings("l1", 1000 * MB, 1000 * MB, None)
    (rec,) = recommend([figures("l1", 100, 900, 0)], {"l1": at_ceiling})
    assert rec.proposed == rec.current
    assert "ceiling" in rec.reason
