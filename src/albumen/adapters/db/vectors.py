"""``PgVectorIndex``: nearest photos by likeness with pgvector, inside PostgreSQL.

Every API process asks the same index, which is as current as the last committed analysis:
nothing to load, save or catch up, unlike the embedded usearch files. The query orders by
cosine distance on ``embedding::halfvec(N)``, the expression of migration 0011's partial HNSW
index (``WHERE space = 'likeness'``), with the space written into the SQL so that the planner
can prove the index applies; the scores are the float32 vectors' exact cosines, and the
answer is in their order. The owner is a filter on what the index yields: pgvector's
iterative scan keeps reading the graph until ``k`` rows of this owner are found; an owner the
index cannot serve so (too few rows among many) is compared exactly.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from albumen.adapters.db.analysis import text_vector

SEARCH_BREADTH = 100  # hnsw.ef_search: candidates kept while walking the graph


class PgVectorIndex:
    def __init__(self, engine: Engine, space: str, dimensions: int) -> None:
        if not space.isidentifier():
            raise ValueError(f"not a space name: {space!r}")
        self._engine = engine
        distance = f"embedding::vector({dimensions}) <=> CAST(:query AS vector({dimensions}))"
        indexed = f"embedding::halfvec({dimensions}) <=> CAST(:query AS halfvec({dimensions}))"
        rows = (
            f"SELECT key, 1 - ({distance}) AS score FROM photo_embeddings"
            f" WHERE space = '{space}' AND owner_id = :owner"
        )
        self._sql = text(f"{rows} ORDER BY {indexed} LIMIT :k")
        # ``+ 0``: an expression the index cannot order by, so every row of the owner is read
        self._exact = text(f"{rows} ORDER BY ({distance}) + 0 LIMIT :k")

    def nearest(self, owner_id: str, vector: tuple[float, ...], k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest keys of the owner's photos, with cosine similarity, best first.

        The HNSW index is asked first (a sort of every row of the owner is priced out, as the
        planner's guess between the two proved unsteady). When it yields fewer than ``k``
        (an owner with few photos among many owners': the iterative scan gives up after
        ``hnsw.max_scan_tuples``), the owner's rows are compared exactly: there are few."""
        params = {"query": text_vector(vector), "owner": owner_id, "k": k}
        with self._engine.begin() as conn:
            conn.execute(text(f"SET LOCAL hnsw.ef_search = {max(SEARCH_BREADTH, k)}"))
            conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
            conn.execute(text("SET LOCAL enable_sort = off"))
            rows = conn.execute(self._sql, params).all()
            if len(rows) < k:
                conn.execute(text("SET LOCAL enable_sort = on"))
                rows = conn.execute(self._exact, params).all()
        # half precision and relaxed_order may order near-equal neighbours a little apart
        return sorted(((int(key), float(score)) for key, score in rows), key=lambda r: -r[1])
