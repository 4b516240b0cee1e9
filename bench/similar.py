"""Similar-photo queries on the HNSW index Albumen uses, against brute force.

``python -m bench.similar`` (100,000 vectors in ``make bench``; ``BENCH_VECTORS=1000000`` for a
million, about 37 minutes to build on 2 cores) builds the index the adapter builds (1280-d, int8,
32 links, cosine) over clustered synthetic embeddings and queries it as the adapter does (the
``RESCORE`` best candidates ordered by their exact vectors), then reports query latency
p50/p95/p99 and recall@10 against exact search, the build time and the index's memory.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from albumen.adapters.vectors import BREADTH, DIMENSIONS, RESCORE, new_index
from bench.library import percentiles

ROOT = Path(__file__).resolve().parent
VECTORS = int(os.environ.get("BENCH_VECTORS", "100000"))
QUERIES = 200


def vectors(n: int, rng: np.random.Generator) -> np.ndarray:  # type: ignore[type-arg]
    """Unit vectors in clusters of about 20 (bursts, series), as photo embeddings are."""
    centers = rng.standard_normal((max(1, n // 20), DIMENSIONS), dtype=np.float32)
    out = np.empty((n, DIMENSIONS), np.float32)
    for start in range(0, n, 50_000):
        size = min(50_000, n - start)
        chunk = centers[rng.integers(0, len(centers), size)]
        chunk += 0.6 * rng.standard_normal((size, DIMENSIONS), dtype=np.float32)
        out[start : start + size] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def exact(queries: np.ndarray, data: np.ndarray, k: int) -> np.ndarray:  # type: ignore[type-arg]
    best_scores = np.full((len(queries), k), -np.inf, np.float32)
    best_keys = np.zeros((len(queries), k), np.int64)
    for start in range(0, len(data), 100_000):
        scores = queries @ data[start : start + 100_000].T
        keys = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        merged_scores = np.concatenate([best_scores, scores], axis=1)
        merged_keys = np.concatenate([best_keys, keys], axis=1)
        top = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, top, axis=1)
        best_keys = np.take_along_axis(merged_keys, top, axis=1)
    return best_keys


def main() -> dict[str, object]:
    rng = np.random.default_rng(0)
    data = vectors(VECTORS, rng)
    index = new_index()
    start = time.perf_counter()
    index.add(np.arange(VECTORS, dtype=np.uint64), data, threads=os.cpu_count() or 1)
    build_s = time.perf_counter() - start
    queries = data[rng.integers(0, VECTORS, QUERIES)]
    queries += 0.05 * rng.standard_normal(queries.shape, dtype=np.float32)
    truth = exact(queries, data, 10)
    by_breadth = {}
    for breadth in sorted({256, BREADTH, 1024}):  # BREADTH is what the adapter uses
        index.expansion_search = breadth
        times, found = [], []
        for query in queries:
            start = time.perf_counter()
            keys = index.search(query, RESCORE).keys  # then exact order, as the adapter does
            found.append(keys[np.argsort(-(data[keys] @ query))[:10]])
            times.append((time.perf_counter() - start) * 1000)
        pairs = zip(found, truth, strict=True)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in pairs]))
        by_breadth[breadth] = {"query_ms": percentiles(times), "recall_at_10": round(recall, 4)}
    return {
        "vectors": VECTORS,
        "dimensions": DIMENSIONS,
        "by_search_breadth": by_breadth,
        "target": {"query_p95_ms_at_1m": 20, "recall_at_10": 0.95},
        "build_s": round(build_s, 1),
        "index_mb": round(index.memory_usage / 2**20, 1),
    }


if __name__ == "__main__":
    out = main()
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / f"similar-{VECTORS}.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
