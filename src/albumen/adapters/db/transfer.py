"""``SqlLibraryCopy``: every row of one Albumen database into another (SQLite to PostgreSQL).

Tables go in foreign-key order (albums parents first), each in primary-key order, a batch at a
time, inserted with ``ON CONFLICT DO NOTHING``: a copy cut short is resumed by running it again,
and rows already there are neither duplicated nor changed. What triggers derive is left to the
target's own triggers, which build it as the rows arrive: the search index, the timeline's day
counts, the map's cells, the albums' photo counts and the sidecar outbox (so every photo's
sidecar is written into the new store). Resumable uploads still in flight are not copied:
their parts are files of the old host. pgvector's ``embedding`` is filled from each
embedding's float32 bytes, and PostgreSQL's sequences are moved past the copied keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Table, func, select, text

from albumen.adapters.db.analysis import text_vector
from albumen.adapters.db.engine import dialect_insert
from albumen.adapters.db.tables import albums, metadata, photo_embeddings
from albumen.domain.durability import TableCount

BATCH = 2000
# Rebuilt by the target's triggers as rows arrive (compared afterwards, not copied).
DERIVED = {"timeline_days", "sidecar_outbox", "map_cells", "located_days"}
NOT_COPIED = {"uploads"}  # in-flight resumable uploads: their parts are local files


class SqlLibraryCopy:
    def __init__(self, source: Engine, target: Engine) -> None:
        self._source = source
        self._target = target

    def tables(self) -> list[str]:
        """The tables copied, in the order they are."""
        return [t.name for t in metadata.sorted_tables if t.name not in DERIVED | NOT_COPIED]

    def copy_table(self, name: str, progress: Callable[[int], None] | None = None) -> int:
        """Copy one table's rows that the target lacks; returns how many rows were read."""
        table = metadata.tables[name]
        read = 0
        with self._source.connect() as source:
            for rows in _batches(source, table):
                with self._target.begin() as target:
                    target.execute(
                        dialect_insert(target, table).on_conflict_do_nothing(),
                        _prepared(table, rows),
                    )
                    if table is photo_embeddings and target.dialect.name == "postgresql":
                        _set_embeddings(target, rows)
                read += len(rows)
                if progress is not None:
                    progress(read)
        if table.name == "places" or table is photo_embeddings:
            self._move_sequence(table)
        return read

    def counts(self) -> list[TableCount]:
        """Rows per table in the source and in the target (the derived ones too)."""
        found = []
        for table in metadata.sorted_tables:
            if table.name in NOT_COPIED:
                continue
            query = select(func.count()).select_from(table)
            with self._source.connect() as source, self._target.connect() as target:
                found.append(
                    TableCount(
                        table.name,
                        source.execute(query).scalar_one(),
                        target.execute(query).scalar_one(),
                    )
                )
        return found

    def album_counts_agree(self) -> bool:
        """Whether every album's photo count (kept by triggers) is the same on both sides."""
        query = select(albums.c.id, albums.c.photo_count).order_by(albums.c.id)
        with self._source.connect() as source, self._target.connect() as target:
            return list(source.execute(query)) == list(target.execute(query))

    def _move_sequence(self, table: Table) -> None:
        if self._target.dialect.name != "postgresql":
            return
        (column,) = table.primary_key.columns
        with self._target.begin() as conn:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
                    f" coalesce((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"
                )
            )


def _batches(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    if table is albums:  # parents before their children (the parent_id reference)
        yield from _chunks(_parents_first([dict(r._mapping) for r in conn.execute(select(table))]))
        return
    query = select(table).order_by(*table.primary_key.columns)
    result = conn.execution_options(yield_per=BATCH).execute(query)
    for part in result.partitions(BATCH):
        yield [dict(row._mapping) for row in part]


def _parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    placed: set[str] = set()
    ordered: list[dict[str, Any]] = []
    waiting = sorted(rows, key=lambda row: str(row["id"]))
    while waiting:
        ready = [r for r in waiting if r["parent_id"] is None or r["parent_id"] in placed]
        if not ready:  # a cycle cannot be: the database refuses one; stop rather than loop
            raise RuntimeError("albums whose parents are missing")
        ordered += ready
        placed |= {r["id"] for r in ready}
        waiting = [r for r in waiting if r["id"] not in placed]
    return ordered


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _prepared(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if table is albums:  # counted again by the target's triggers as album photos arrive
        return [row | {"photo_count": 0} for row in rows]
    return rows


def _set_embeddings(conn: Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(
        text(
            "UPDATE photo_embeddings SET embedding = CAST(:v AS vector)"
            " WHERE key = :k AND embedding IS NULL"
        ),
        [
            {"k": row["key"], "v": text_vector(np.frombuffer(row["vector"], np.float32))}
            for row in rows
        ],
    )
