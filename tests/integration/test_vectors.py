"""The likeness index: exact order after the int8 search, and what survives a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, delete, insert, text

from albumen.adapters import vectors as vectors_module
from albumen.adapters.db.analysis import text_vector
from albumen.adapters.db.photos import SqlPhotoRepo
from albumen.adapters.db.tables import photo_embeddings
from albumen.adapters.db.vectors import PgVectorIndex
from albumen.adapters.vectors import BREADTH, DTYPE, UsearchVectorIndex
from albumen.app.root import build
from albumen.app.services import Services
from albumen.config import Settings
from albumen.domain.analysis import LIKENESS
from albumen.domain.photos import NewPhoto

DIMENSIONS = 64


def stored(services: Services, engine: Engine, n: int) -> tuple[str, np.ndarray]:
    """An owner with ``n`` photos and a unit vector each (keys 1..n)."""
    owner = services.users.add("alice").user.id
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    repo = SqlPhotoRepo(engine)
    # a second apart: this is about vectors (photos of one instant are test_sort_keys' subject)
    start = datetime(2024, 1, 1)
    photo_ids = [
        repo.add(
            NewPhoto(owner, f"{k}.jpg", "image/jpeg", 1, f"{k:064x}"), start + timedelta(seconds=k)
        )[0].id
        for k in range(n)
    ]
    with engine.begin() as conn:
        for k, (photo_id, vector) in enumerate(zip(photo_ids, vectors, strict=True)):
            conn.execute(
                insert(photo_embeddings).values(
                    key=k + 1, photo_id=photo_id, owner_id=owner, space=LIKENESS,
                    model="test", vector=vector.tobytes(),
                )
            )  # fmt: skip
    return owner, vectors


def test_answers_are_in_exact_cosine_order(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    owner, vectors = stored(services, engine, 300)
    index = UsearchVectorIndex(engine, tmp_path, LIKENESS, DIMENSIONS)
    query = vectors[5] + 0.1 * vectors[6]
    found = index.nearest(owner, tuple(float(x) for x in query), 10)

    exact = vectors @ query / np.linalg.norm(query)
    best = np.argsort(-exact)[:10]
    assert [key for key, _ in found] == [int(i) + 1 for i in best]
    assert np.allclose([score for _, score in found], exact[best], atol=1e-6)


def test_a_large_owner_searches_the_graph_and_its_answers_are_rescored_exactly(
    services: Services, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past EXACT_UP_TO vectors the HNSW graph finds the candidates (here from the first
    vector on): the clear nearest comes first and every score is the exact cosine, in order.
    (Which of the near-ties among structure-less vectors the graph finds is not asked: a
    test that asked saw the graph miss one in about ten runs.)"""
    monkeypatch.setattr(vectors_module, "EXACT_UP_TO", 0)
    owner, vectors = stored(services, engine, 300)
    index = UsearchVectorIndex(engine, tmp_path, LIKENESS, DIMENSIONS)
    query = vectors[5] + 0.1 * vectors[6]
    found = index.nearest(owner, tuple(float(x) for x in query), 10)
    keys, scores = [key for key, _ in found], [score for _, score in found]
    assert keys[0] == 6  # vectors[5], the query's own
    exact = vectors @ query / np.linalg.norm(query)
    assert np.allclose(scores, exact[np.array(keys) - 1], atol=1e-6)
    assert scores == sorted(scores, reverse=True)
    assert len(set(keys)) == 10


def test_a_deleted_key_is_left_out(services: Services, engine: Engine, tmp_path: Path) -> None:
    owner, vectors = stored(services, engine, 50)
    index = UsearchVectorIndex(engine, tmp_path, LIKENESS, DIMENSIONS)
    index.nearest(owner, tuple(float(x) for x in vectors[0]), 5)
    with engine.begin() as conn:
        conn.execute(delete(photo_embeddings).where(photo_embeddings.c.key == 1))
    found = index.nearest(owner, tuple(float(x) for x in vectors[0]), 5)
    assert 1 not in [key for key, _ in found]
    assert len(found) == 5


def test_a_restored_index_searches_as_wide_and_an_old_layout_is_rebuilt(
    services: Services, engine: Engine, tmp_path: Path
) -> None:
    owner, vectors = stored(services, engine, 200)
    first = UsearchVectorIndex(engine, tmp_path, LIKENESS, DIMENSIONS)
    query = tuple(float(x) for x in vectors[3])
    expected = first.nearest(owner, query, 10)
    first.save_all()

    again = UsearchVectorIndex(engine, tmp_path, LIKENESS, DIMENSIONS)
    assert again.nearest(owner, query, 10) == expected
    restored = again._owners[owner].index
    assert restored.expansion_search == BREADTH  # usearch does not keep it in the file
    assert str(restored.dtype).lower().endswith(DTYPE)

    from usearch.index import Index

    old = Index(ndim=DIMENSIONS, metric="cos", dtype="f16")  # the layout before int8
    old.add(np.arange(1, 201, dtype=np.uint64), vectors)
    old.save(str(tmp_path / f"{owner}-{LIKENESS}.usearch"))
    rebuilt = UsearchVectorIndex(engine, tmp_path, LIKENESS, DIMENSIONS)
    found = rebuilt.nearest(owner, query, 10)
    # A rebuilt HNSW graph is built again on several threads, so it is not the same graph as
    # the first: two approximate answers differ by near ties and, now and then, by a miss
    # (comparing them place by place failed about once in ten runs). What must hold is what a
    # search promises, against the exact answer: the photo itself first, the true neighbours
    # found, and each score the exact cosine of its photo, best first.
    exact = vectors @ vectors[3]
    truth = {int(key) + 1 for key in np.argsort(-exact)[:10]}
    assert found[0][0] == 4  # the photo itself (keys are 1..n)
    assert len({key for key, _ in found} & truth) >= 8
    for key, score in found:
        assert abs(score - float(exact[key - 1])) < 1e-4
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)
    assert str(rebuilt._owners[owner].index.dtype).lower().endswith(DTYPE)


def test_pgvector_finds_the_exact_neighbours_through_its_hnsw_index(
    postgres_url: str, tmp_path: Path
) -> None:
    """PostgreSQL's likeness search: 1280-d clustered vectors of two owners, each query
    answered from migration 0011's HNSW index with its owner's true nearest neighbours."""
    built = build(
        Settings(data_dir=tmp_path, database_url=postgres_url, run_workers_in_server=False)
    )
    try:
        rng = np.random.default_rng(11)
        centres = rng.standard_normal((20, PG_DIMENSIONS)).astype(np.float32)
        owners = [built.services.users.add(name).user.id for name in ("alice", "bob")]
        repo = SqlPhotoRepo(built.infrastructure.engine)
        vectors = centres[rng.integers(0, 20, 600)] + 0.4 * rng.standard_normal(
            (600, PG_DIMENSIONS)
        ).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = []
        for k, vector in enumerate(vectors):
            owner = owners[k % 2]
            new = NewPhoto(owner, f"{k}.jpg", "image/jpeg", 1, f"{k:064x}")
            photo = repo.add(new, datetime(2024, 1, 1) + timedelta(seconds=k))[0]
            rows.append(
                {
                    "k": k + 1,
                    "p": photo.id,
                    "o": owner,
                    "v": vector.tobytes(),
                    "e": text_vector(vector),
                }
            )
        with built.infrastructure.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO photo_embeddings (key, photo_id, owner_id, space, model, vector,"
                    " embedding) VALUES (:k, :p, :o, 'likeness', 'test', :v, CAST(:e AS vector))"
                ),
                rows,
            )
            conn.execute(text("ANALYZE photo_embeddings"))
        index = PgVectorIndex(built.infrastructure.engine, LIKENESS, PG_DIMENSIONS)
        alice = vectors[0::2]
        hits = 0
        for q in range(20):
            query = vectors[2 * q] * 0.7 + vectors[2 * q + 2] * 0.3
            found = index.nearest(owners[0], tuple(float(x) for x in query), 10)
            assert all(key % 2 == 1 for key, _ in found)  # alice's keys only (odd: k even)
            exact = alice @ query / np.linalg.norm(query)
            best = {2 * int(i) + 1 for i in np.argsort(-exact)[:10]}
            hits += len(best & {key for key, _ in found})
            scores = [score for _, score in found]
            assert scores == sorted(scores, reverse=True)
        assert hits / 200 >= 0.95
        with built.infrastructure.engine.connect() as conn:
            conn.execute(text("SET enable_sort = off"))  # as nearest() asks
            plan = conn.execute(
                text(f"EXPLAIN {index._sql.text}"),
                {"query": text_vector(vectors[0]), "owner": owners[0], "k": 10},
            ).scalars()
            lines = list(plan)
            assert any("ix_photo_embeddings_likeness_hnsw" in line for line in lines), lines
        stranger = built.services.users.add("carol").user.id  # no photos: nothing, not an error
        assert index.nearest(stranger, tuple(float(x) for x in vectors[0]), 10) == []
    finally:
        built.close()


PG_DIMENSIONS = 1280  # the width of migration 0011's index
