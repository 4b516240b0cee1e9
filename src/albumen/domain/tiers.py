"""Storage tiers for originals: hot, warm and cold, a lifecycle policy, and what they cost.

Thumbnails and previews always stay hot; an original moves down as it goes unread (the time
since its last read, or since its upload when never read) and comes back up when read again.
A cold original cannot be read at once: it is restored first (a job), as S3 Glacier needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Tier(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


@dataclass(frozen=True, slots=True)
class TierPrice:
    storage_gb_month: float  # dollars per GB-month stored
    retrieval_gb: float  # dollars per GB read
    latency_seconds: float  # expected time to the first byte of a read


# The defaults: S3 Standard, Standard-IA and Glacier Flexible Retrieval, roughly.
PRICES = {
    Tier.HOT: TierPrice(0.023, 0.0, 0.010),
    Tier.WARM: TierPrice(0.0125, 0.01, 0.100),
    Tier.COLD: TierPrice(0.004, 0.03, 300.0),
}


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    warm_after: timedelta  # unread this long: hot → warm
    cold_after: timedelta  # unread this long: warm → cold

    def tier_for(self, unread_for: timedelta, current: Tier) -> Tier:
        """Where an original belongs after ``unread_for`` without a read.

        Cold stays cold until someone asks for it (a restore); a warm original read again
        within ``warm_after`` goes back to hot.
        """
        if current is Tier.COLD:
            return Tier.COLD
        if unread_for >= self.cold_after:
            return Tier.COLD
        if unread_for >= self.warm_after:
            return Tier.WARM
        return Tier.HOT


@dataclass(frozen=True, slots=True)
class TierUsage:
    """What one owner keeps in one tier (a blob shared by two owners counts for each)."""

    owner: str
    tier: Tier
    photos: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Retrieval:
    """Originals read from a paid tier by one owner in one month."""

    owner: str
    tier: Tier
    month: str  # YYYY-MM
    reads: int
    bytes: int


@dataclass(frozen=True, slots=True)
class CostLine:
    owner: str
    tier: Tier
    photos: int
    gigabytes: float
    storage_per_month: float
    retrievals: int
    retrieved_gigabytes: float
    retrieval_cost: float


def cost_report(
    usage: list[TierUsage], retrievals: list[Retrieval], prices: dict[Tier, TierPrice]
) -> list[CostLine]:
    """One line per owner and tier: storage cost per month, and the cost of the retrievals."""
    read: dict[tuple[str, Tier], tuple[int, int]] = {}
    for r in retrievals:
        reads, size = read.get((r.owner, r.tier), (0, 0))
        read[(r.owner, r.tier)] = (reads + r.reads, size + r.bytes)
    kept = {(u.owner, u.tier): u for u in usage}
    lines = []
    for owner, tier in sorted(kept.keys() | read.keys()):
        stored = kept.get((owner, tier))
        reads, read_bytes = read.get((owner, tier), (0, 0))
        gigabytes = (stored.bytes if stored else 0) / 1e9
        lines.append(
            CostLine(
                owner=owner,
                tier=tier,
                photos=stored.photos if stored else 0,
                gigabytes=gigabytes,
                storage_per_month=gigabytes * prices[tier].storage_gb_month,
                retrievals=reads,
                retrieved_gigabytes=read_bytes / 1e9,
                retrieval_cost=read_bytes / 1e9 * prices[tier].retrieval_gb,
            )
        )
    return lines
