"""``SqlInstanceSecrets``: the deployment's own secrets, in its database.

Kept there rather than in a process's data dir, so that every API process of a deployment
signs alike, and the secrets travel with the library's rows (backups, ``migrate-to``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from albumen.adapters.db.engine import dialect_insert
from albumen.adapters.db.tables import instance_secrets
from albumen.ports import Clock


class SqlInstanceSecrets:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def get_or_make(self, name: str, make: Callable[[], str]) -> str:
        """The secret called ``name``; the first caller's ``make()`` when there is none yet
        (processes starting together all get the one that was stored)."""
        found = select(instance_secrets.c.value).where(instance_secrets.c.name == name)
        with self._engine.begin() as conn:
            value = conn.execute(found).scalar()
            if value is not None:
                return str(value)
            made = {"name": name, "value": make(), "created_at": self._clock.now()}
            insert = dialect_insert(conn, instance_secrets).values(made)
            conn.execute(insert.on_conflict_do_nothing())
            return str(conn.execute(found).scalar_one())
