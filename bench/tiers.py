"""Storage tiers: move throughput, and the cost of a million photos after a year of reads.

``python -m bench.tiers`` (part of ``make bench``):

1. **Moves.** ``BENCH_TIER_ORIGINALS`` (200) originals of 4 MB are stored hot, made 40 days
   unread, and moved to a warm volume by ``TierService.run_lifecycle`` (copy, hash on the way,
   hash again where it lies, delete the hot copy, record). The reference is ``cp`` of the same
   files to another folder, in the same run.
2. **A simulated year.** A million originals (sizes log-normal around 3 MB, uploads spread
   over five years) are read for 365 days: 3,000 original reads a day, each photo chosen by a
   Zipf law (s = 1.1) over a recency ranking, so recent photos are read most. Each night the
   real ``LifecyclePolicy`` places every original; a read of a cold original pays a
   retrieval and brings it back hot, as a restore does. At the end, the real ``cost_report``
   prices the tiers with the default prices, against keeping everything hot.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import text

from albumen.app.root import build
from albumen.config import Settings
from albumen.domain.tiers import PRICES, LifecyclePolicy, Retrieval, Tier, TierUsage, cost_report

ROOT = Path(__file__).resolve().parent
ORIGINALS = int(os.environ.get("BENCH_TIER_ORIGINALS", "200"))
LIBRARY = int(os.environ.get("BENCH_TIER_LIBRARY", "1000000"))
READS_PER_DAY = 3000
MB = 1024 * 1024
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def bench_moves(work: Path) -> dict[str, object]:
    settings = Settings(
        data_dir=work / "data",
        warm_storage_url=(work / "warm").as_uri(),
        run_workers_in_server=False,
        analysis=False,
    )
    built = build(settings)
    owner = built.services.users.add("bench").user.id
    try:
        for n in range(ORIGINALS):
            writer = built.services.photos.stage()
            writer.write(JPEG_HEAD + n.to_bytes(8, "big"))
            writer.write(os.urandom(4 * MB - len(JPEG_HEAD) - 8))
            built.services.photos.ingest(owner, f"p{n}.jpg", writer.finish())
        with built.infrastructure.engine.begin() as conn:
            conn.execute(text("UPDATE blob_tiers SET read_at = datetime('now', '-40 days')"))
        originals = [str(p) for p in (work / "data" / "blobs").glob("??/??/*")]
        gigabytes = ORIGINALS * 4 * MB / 1e9
        copies = []
        for n in range(3):
            target = work / f"cp-{n}"
            target.mkdir()
            start = time.perf_counter()
            subprocess.run(["cp", *originals, str(target)], check=True)
            subprocess.run(["sync"], check=True)
            copies.append(time.perf_counter() - start)
        start = time.perf_counter()
        moved = built.services.tiers.run_lifecycle()
        seconds = time.perf_counter() - start
    finally:
        built.close()
    cp_s = statistics.median(copies)
    return {
        "originals": moved,
        "gigabytes": round(gigabytes, 3),
        "seconds": round(seconds, 2),
        "gb_per_min": round(gigabytes / seconds * 60, 2),
        "originals_per_second": round(moved / seconds, 1),
        "reference_cp_and_sync_seconds": round(cp_s, 2),
        "ratio_to_cp": round(seconds / cp_s, 2),
    }


def simulate_year(photos: int, seed: int = 7) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    policy = LifecyclePolicy(timedelta(days=30), timedelta(days=180))
    sizes = np.clip(rng.lognormal(np.log(3 * MB), 0.5, photos), 200_000, 40 * MB)
    uploaded = np.sort(rng.uniform(-5 * 365, 0, photos))[::-1]  # day of upload, newest first
    read_at = uploaded.copy()  # never read: the upload counts
    tier = np.zeros(photos, np.int8)  # 0 hot, 1 warm, 2 cold
    ranks = np.arange(1, photos + 1, dtype=np.float64)
    weights = ranks**-1.1
    weights /= weights.sum()  # index 0, the newest upload, is read most
    retrieved = np.zeros((3, 2))  # per tier: reads, bytes
    warm_days, cold_days = policy.warm_after.days, policy.cold_after.days
    for day in range(1, 366):
        read = rng.choice(photos, READS_PER_DAY, p=weights)
        for level in (1, 2):
            hit = read[tier[read] == level]
            retrieved[level] += (len(hit), sizes[hit].sum())
        read_at[read] = day
        tier[read[tier[read] == 2]] = 0  # a cold read is restored to hot
        unread = day - read_at
        # the policy, vectorised: the same thresholds as LifecyclePolicy.tier_for
        tier[(tier == 1) & (unread < warm_days)] = 0
        tier[(tier != 2) & (unread >= warm_days)] = 1
        tier[(tier != 2) & (unread >= cold_days)] = 2
    assert policy.tier_for(timedelta(days=cold_days), Tier.HOT) is Tier.COLD
    usage = [
        TierUsage("simulated", level, int((tier == i).sum()), int(sizes[tier == i].sum()))
        for i, level in enumerate(Tier)
    ]
    reads = [
        Retrieval("simulated", level, "year", int(retrieved[i][0]), int(retrieved[i][1]))
        for i, level in enumerate(Tier)
        if retrieved[i][0]
    ]
    lines = cost_report(usage, reads, PRICES)
    monthly = sum(line.storage_per_month for line in lines)
    all_hot = sizes.sum() / 1e9 * PRICES[Tier.HOT].storage_gb_month
    return {
        "photos": photos,
        "terabytes": round(sizes.sum() / 1e12, 2),
        "reads_per_day": READS_PER_DAY,
        "tiers": {
            line.tier.value: {
                "photos": line.photos,
                "terabytes": round(line.gigabytes / 1000, 3),
                "storage_per_month": round(line.storage_per_month, 2),
                "reads_in_the_year": line.retrievals,
                "retrieval_cost_in_the_year": round(line.retrieval_cost, 2),
            }
            for line in lines
        },
        "storage_per_month": round(monthly, 2),
        "all_hot_per_month": round(all_hot, 2),
        "saving": round(1 - monthly / all_hot, 3),
        "retrieval_cost_in_the_year": round(sum(x.retrieval_cost for x in lines), 2),
        "reads_that_waited_for_a_restore": round(retrieved[2][0] / (365 * READS_PER_DAY), 3),
    }


def main() -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="albumen-tiers-", dir=ROOT))
    try:
        return {"moves": bench_moves(work), "year": simulate_year(LIBRARY)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    result = main()
    print(json.dumps(result, indent=2))
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "tiers.json").write_text(json.dumps(result, indent=2) + "\n")
