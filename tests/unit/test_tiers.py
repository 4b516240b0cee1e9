"""The lifecycle policy and the cost report, as plain rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from albumen.domain.tiers import (
    PRICES,
    LifecyclePolicy,
    Retrieval,
    Tier,
    TierUsage,
    cost_report,
)

POLICY = LifecyclePolicy(warm_after=timedelta(days=30), cold_after=timedelta(days=180))


@pytest.mark.parametrize(
    ("unread_days", "current", "expected"),
    [
        (0, Tier.HOT, Tier.HOT),
        (29.9, Tier.HOT, Tier.HOT),
        (30, Tier.HOT, Tier.WARM),
        (179, Tier.HOT, Tier.WARM),
        (180, Tier.HOT, Tier.COLD),
        (1, Tier.WARM, Tier.HOT),  # read again: back up
        (400, Tier.WARM, Tier.COLD),
        (0, Tier.COLD, Tier.COLD),  # only a restore brings it back
    ],
)
def test_the_policy_places_an_original_by_how_long_it_went_unread(
    unread_days: float, current: Tier, expected: Tier
) -> None:
    assert POLICY.tier_for(timedelta(days=unread_days), current) is expected


def test_the_cost_report_prices_storage_and_reads_per_owner_and_tier() -> None:
    usage = [
        TierUsage("alice", Tier.HOT, 10, 2_000_000_000),
        TierUsage("alice", Tier.COLD, 100, 50_000_000_000),
    ]
    reads = [
        Retrieval("alice", Tier.COLD, "2026-11", 2, 3_000_000_000),
        Retrieval("bob", Tier.WARM, "2026-11", 1, 1_000_000_000),
    ]
    lines = {(x.owner, x.tier): x for x in cost_report(usage, reads, PRICES)}
    assert set(lines) == {("alice", Tier.HOT), ("alice", Tier.COLD), ("bob", Tier.WARM)}
    assert lines["alice", Tier.HOT].storage_per_month == pytest.approx(2 * 0.023)
    assert lines["alice", Tier.HOT].retrieval_cost == 0
    cold = lines["alice", Tier.COLD]
    assert cold.storage_per_month == pytest.approx(50 * 0.004)
    assert cold.retrievals == 2
    assert cold.retrieval_cost == pytest.approx(3 * 0.03)
    assert lines["bob", Tier.WARM].photos == 0
    assert lines["bob", Tier.WARM].retrieval_cost == pytest.approx(0.01)
