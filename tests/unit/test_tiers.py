"""The lifecycle policy and the cost report, as plain rules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from albumen.adapters.blobs import LocalBlobStore
from albumen.domain.tiers import (
    PRICES,
    LifecyclePolicy,
    Retrieval,
    Tier,
    TierUsage,
    cost_report,
)
from albumen.ports import BlobStore
from albumen.services.tiers import TierService
from tests.fakes import FakeClock, FakeQueue, FakeTierRepo

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


def test_a_move_with_no_good_copy_left_is_not_retried_in_a_loop(tmp_path: Path) -> None:
    clock, repo = FakeClock(), FakeTierRepo()
    stores: dict[Tier, BlobStore] = {
        Tier.HOT: LocalBlobStore(tmp_path / "hot"),
        Tier.WARM: LocalBlobStore(tmp_path / "warm"),
    }
    sha = stores[Tier.HOT].put_bytes(b"an original")
    (path,) = (tmp_path / "hot").glob("??/??/*")
    path.write_bytes(b"an origin4l")  # damaged, and no other copy
    repo.track(sha, clock.now() - timedelta(days=40))
    policy = LifecyclePolicy(timedelta(days=30), timedelta(days=180))
    tiers = TierService(repo, stores, FakeQueue(), clock, policy, PRICES)
    assert tiers.run_lifecycle() == 0  # returns: the damaged blob stays where it is
    assert repo.rows[sha].moving_to is Tier.WARM  # noted, for the next run and the scrub
    assert tiers.run_lifecycle() == 0
    assert path.read_bytes() == b"an origin4l"
