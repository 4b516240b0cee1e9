"""``PgVectorIndex``: nearest photos by likeness with pgvector, inside PostgreSQL.

Every API process asks the same index, which is as current as the last committed analysis:
nothing to load, save or catch up, unlike the embedded usearch files. The query orders by
cosine distance on ``embedding::vector(N)``, the expression of migration 0011's partial HNSW
index (``WHERE space = 'likeness'``), with the space written into the SQL so that the planner
can prove the index applies. The owner is a filter on what the index yields: pgvector's
iterative scan keeps reading the graph until ``k`` rows of this owner are found.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from albumen.adapters.db.analysis import text_vector

SEARCH_BREADTH = 200  # hnsw.ef_search: candidates kept while walking the graph


class PgVectorIndex:
    def __init__(self, engine: Engine, space: str, dimensions: int) -> None:
        if not space.isidentifier():
            raise ValueError(f"not a space name: {space!r}")
        self._engine = engine
        distance = f"embedding::vector({dimensions}) <=> CAST(:query AS vector({dimensions}))"
        self._sql = text(
            f"SELECT key, 1 - ({distance}) AS score FROM photo_embeddings"
            f" WHERE space = '{space}' AND owner_id = :owner"
            f" ORDER BY {distance} LIMIT :k"
        )

    def nearest(self, owner_id: str, vector: tuple[float, ...], k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest keys of the owner's photos, with cosine similarity, best first."""
        with self._engine.begin() as conn:
            conn.execute(text(f"SET LOCAL hnsw.ef_search = {max(SEARCH_BREADTH, k)}"))
            conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
            rows = conn.execute(
                self._sql, {"query": text_vector(vector), "owner": owner_id, "k": k}
            ).all()
        # relaxed_order may hand back near-equal neighbours a little out of order
        return sorted(((int(key), float(score)) for key, score in rows), key=lambda r: -r[1])
