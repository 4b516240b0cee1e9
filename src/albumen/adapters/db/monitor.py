"""Every statement timed; the slow ones kept, logged and explained.

SQLite does most of a SELECT's work while rows are fetched, not in ``execute()``, so
SQLAlchemy's ``after_cursor_execute`` event would time only the first row. A statement here
is timed from ``execute()`` until its cursor is exhausted or closed, by a ``sqlite3`` cursor
class given to every connection of the engine (``sqlite3.connect(factory=...)``).

PostgreSQL does a statement's work in ``execute()``, and psycopg has every row by its end, so
there the engine's own events time it (``QueryMonitor.watch``), and a slow one's plan is
PostgreSQL's ``EXPLAIN``, asked inside a savepoint so that no failure touches the caller's
transaction.

The statement text is kept and logged; its parameters are not (they hold key hashes and
user data), though the plan is asked with them, so that it is the plan the engine really chose.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, event

from albumen.adapters import metrics

log = logging.getLogger(__name__)
KEPT = 200  # slow statements remembered for /api/v1/admin/slow-queries
_EXPLAINABLE = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "REPLACE")
_INDEX = re.compile(
    r"USING (?:COVERING )?INDEX (\w+)|USING (INTEGER PRIMARY KEY|ROWID SEARCH)"
    r"|(?:SCAN|SEARCH) (\w+) VIRTUAL TABLE"  # SQLite's
    r"|Index (?:Only )?Scan (?:Backward )?using (\w+)|Bitmap Index Scan on (\w+)"  # PostgreSQL's
)


@dataclass(frozen=True, slots=True)
class SlowQuery:
    at: datetime
    seconds: float
    rows: int
    statement: str
    plan: tuple[str, ...]

    @property
    def indexes(self) -> list[str]:
        return indexes_used(self.plan)

    @property
    def full_scans(self) -> list[str]:
        return full_scans(self.plan)


def indexes_used(plan: tuple[str, ...] | list[str]) -> list[str]:
    found: list[str] = []
    for step in plan:
        for match in _INDEX.finditer(step):
            name = next(group for group in match.groups() if group)
            if name not in found:
                found.append(name)
    return found


def full_scans(plan: tuple[str, ...] | list[str]) -> list[str]:
    """Steps that read a whole table (SQLite's ``SCAN t`` without an index, PostgreSQL's
    ``Seq Scan``)."""
    return [
        step
        for step in plan
        if (step.startswith("SCAN ") and " INDEX " not in step) or "Seq Scan on " in step
    ]


class QueryMonitor:
    """Times statements into ``albumen_db_query_duration_seconds``; keeps the slow ones."""

    def __init__(self, slow_ms: float) -> None:
        self.slow_seconds = slow_ms / 1000
        self._slow: deque[SlowQuery] = deque(maxlen=KEPT)
        self._lock = threading.Lock()
        self._local = threading.local()

    def record(
        self, statement: str, seconds: float, rows: int, plan: Callable[[], Sequence[str]]
    ) -> None:
        operation = _operation(statement)
        metrics.db_query_duration.labels(operation).observe(seconds)
        capture: list[SlowQuery] | None = getattr(self._local, "capture", None)
        if seconds < self.slow_seconds and capture is None:
            return
        found = SlowQuery(
            datetime.now(UTC), seconds, rows, " ".join(statement.split()), tuple(plan())
        )
        if capture is not None:
            capture.append(found)
        if seconds < self.slow_seconds:
            return
        metrics.db_slow_queries.labels(operation).inc()
        with self._lock:
            self._slow.append(found)
        log.warning(
            "slow query",
            extra={
                "duration_ms": round(seconds * 1000, 1),
                "rows": rows,
                "statement": found.statement,
                "plan": list(found.plan),
            },
        )

    def slow(self) -> list[SlowQuery]:
        """The slow statements seen, newest first."""
        with self._lock:
            return list(reversed(self._slow))

    @contextmanager
    def capturing(self) -> Iterator[list[SlowQuery]]:
        """Every statement this thread runs inside the block, with its plan (for explain)."""
        captured: list[SlowQuery] = []
        self._local.capture = captured
        try:
            yield captured
        finally:
            self._local.capture = None

    def explain_now(self, engine: Engine, statement: str) -> SlowQuery:
        """The plan of a statement given as SQL text (not run)."""
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            if isinstance(raw, sqlite3.Connection):
                plan = explain(raw, statement)
            else:
                plan = explain_server(raw, statement, None)
        return SlowQuery(datetime.now(UTC), 0.0, 0, " ".join(statement.split()), tuple(plan))

    def watch(self, engine: Engine) -> None:
        """Time every statement of a PostgreSQL engine (see the module's notes)."""

        @event.listens_for(engine, "before_cursor_execute")
        def _started(*args: Any) -> None:
            context = args[4]  # (conn, cursor, statement, parameters, context, executemany)
            context.albumen_started = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _finished(
            _conn: Connection,
            cursor: Any,
            statement: str,
            params: Any,
            context: Any,
            executemany: bool,
        ) -> None:
            seconds = time.perf_counter() - context.albumen_started
            raw = cursor.connection
            self.record(
                statement,
                seconds,
                max(cursor.rowcount, 0),
                tuple if executemany else lambda: explain_server(raw, statement, params),
            )

    def connection_factory(self) -> type[sqlite3.Connection]:
        monitor = self

        class TimedConnection(sqlite3.Connection):
            def cursor(self, factory: Any = None) -> Any:
                return TimedCursor(self, monitor)

        return TimedConnection


class TimedCursor(sqlite3.Cursor):
    """A cursor that reports each statement when its rows are all read, or when closed."""

    def __init__(self, connection: sqlite3.Connection, monitor: QueryMonitor) -> None:
        super().__init__(connection)
        self._monitor = monitor
        self._statement: str | None = None
        self._params: Any = ()
        self._start = 0.0
        self._rows = 0

    def execute(self, sql: str, parameters: Any = (), /) -> TimedCursor:
        self._finish()
        self._statement, self._params, self._rows = sql, parameters, 0
        self._start = time.perf_counter()
        super().execute(sql, parameters)
        if self.description is None:  # no rows to fetch: the work is done
            self._finish()
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> TimedCursor:
        self._finish()
        start = time.perf_counter()
        super().executemany(sql, seq_of_parameters)
        self._monitor.record(sql, time.perf_counter() - start, self.rowcount, tuple)
        return self

    def fetchone(self) -> Any:
        row = super().fetchone()
        self._counted(0 if row is None else 1, exhausted=row is None)
        return row

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = super().fetchmany(self.arraysize if size is None else size)
        self._counted(len(rows), exhausted=not rows)
        return rows

    def fetchall(self) -> list[Any]:
        rows = super().fetchall()
        self._counted(len(rows), exhausted=True)
        return rows

    def close(self) -> None:
        self._finish()
        super().close()

    def _counted(self, rows: int, exhausted: bool) -> None:
        self._rows += rows
        if exhausted:
            self._finish()

    def _finish(self) -> None:
        statement, self._statement = self._statement, None
        if statement is None:
            return
        rows = self._rows if self.description is not None else max(self.rowcount, 0)
        params = self._params
        self._monitor.record(
            statement,
            time.perf_counter() - self._start,
            rows,
            lambda: explain(self.connection, statement, params),
        )


def explain(connection: sqlite3.Connection, statement: str, params: Any = ()) -> list[str]:
    """SQLite's ``EXPLAIN QUERY PLAN`` of a statement, one line a step, indented by depth."""
    if not statement.lstrip().upper().startswith(_EXPLAINABLE):
        return []
    cursor = sqlite3.Cursor(connection)
    try:
        rows = cursor.execute(f"EXPLAIN QUERY PLAN {statement}", params).fetchall()
    except sqlite3.Error as err:
        return [f"(no plan: {err})"]
    finally:
        cursor.close()
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def explain_server(connection: Any, statement: str, params: Any) -> list[str]:
    """PostgreSQL's ``EXPLAIN`` of a statement (with its parameters), one line a step, asked
    on the statement's own psycopg connection in a savepoint of its transaction."""
    if not statement.lstrip().upper().startswith(_EXPLAINABLE):
        return []
    try:
        with connection.transaction(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {statement}", params)
            return [row[0] for row in cursor.fetchall()]
    except Exception as err:  # a plan is a courtesy: never the caller's failure
        return [f"(no plan: {type(err).__name__}: {err})"]


def _operation(statement: str) -> str:
    word = statement.lstrip()[:7].upper()
    for operation in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        if word.startswith(operation):
            return operation.lower()
    return "select" if word.startswith("WITH") else "other"
