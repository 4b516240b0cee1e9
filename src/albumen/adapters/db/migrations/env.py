"""Alembic environment: runs against the engine handed over in ``config.attributes``.

SQLite changes most things about a table by rebuilding it: copy, ``DROP TABLE``, rename. With
foreign keys on, that drop first deletes every row, and ``ON DELETE CASCADE`` would take the
rows of every child table along (all photos, when ``users`` is rebuilt). So foreign keys are
off while migrations run, as SQLite's own procedure for altering tables says, and checked
before they are turned back on: a migration that broke a reference fails and rolls back.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from albumen.adapters.db.tables import metadata

engine: Engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only outside a transaction
        connection.commit()  # ends SQLAlchemy's autobegun one, so Alembic runs its own
    try:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migration broke references: {broken[:5]}")
    finally:
        if sqlite:
            connection.rollback()  # nothing left open; a failed migration is undone
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
