"""The PostgreSQL pool: idle connections kept, and remade after the idle timeout."""

from __future__ import annotations

import time

from sqlalchemy import text

from albumen.adapters.db.engine import Pool, make_engine


def test_an_idle_connection_is_reused_until_the_idle_timeout(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool=Pool(max_open=4, idle=2, idle_timeout_seconds=0.3))
    try:

        def backend() -> int:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())

        first = backend()
        assert backend() == first  # back from the pool at once: the same connection
        time.sleep(0.5)
        assert backend() != first  # idle too long: closed, and a new one opened
        assert engine.pool.size() == 2  # type: ignore[attr-defined]  # a QueuePool
        held = [engine.connect() for _ in range(4)]  # up to max_open at once
        assert engine.pool.checkedout() == 4  # type: ignore[attr-defined]  # a QueuePool
        for conn in held:
            conn.close()
        assert engine.pool.checkedin() == 2  # type: ignore[attr-defined]  # the idle ones kept
    finally:
        engine.dispose()
