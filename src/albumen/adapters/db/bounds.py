"""Declared text lengths, enforced alike in both worlds.

PostgreSQL refuses the 65th character of a ``VARCHAR(64)``; SQLite keeps the declared length as
a word only and stores a million characters. A value that fits on the embedded default would
then fail on PostgreSQL (and a library could not move there). So every bounded column of a
SQLite library is guarded by a trigger that refuses what PostgreSQL refuses: SQLite cannot add
a ``CHECK`` to a table without rebuilding it, and a rebuild drops the table's other triggers.

The code that writes a column bounds its values first (see ``domain.limits``); these guards are
the floor under that, and a test writes one character too many into every column, in both
worlds. A migration that adds a bounded column calls ``sqlite_guards`` again for its table.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import String, Table


def declared_bounds(table: Table) -> dict[str, int]:
    """The declared length of each bounded text column of ``table``."""
    return {
        column.name: column.type.length
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }


def sqlite_guards(table: str, bounds: Mapping[str, int]) -> list[str]:
    """The statements that (re)make the two triggers guarding ``table``'s bounded columns:
    an insert or an update that leaves a value longer than its bound is aborted, naming it."""
    too_long = {name: f"length(NEW.{name}) > {limit}" for name, limit in bounds.items()}
    when = " OR ".join(too_long.values())
    refusals = " ".join(
        f"SELECT RAISE(ABORT, 'value too long: {table}.{name} holds at most "
        f"{bounds[name]} characters') WHERE {condition};"
        for name, condition in too_long.items()
    )
    columns = ", ".join(bounds)
    statements = []
    for event, on in (("insert", "INSERT"), ("update", f"UPDATE OF {columns}")):
        trigger = f"{table}_bounds_{event}"
        statements.append(f"DROP TRIGGER IF EXISTS {trigger}")
        statements.append(
            f"CREATE TRIGGER {trigger} BEFORE {on} ON {table} WHEN {when} BEGIN {refusals} END"
        )
    return statements


def sqlite_clip(table: str, bounds: Mapping[str, int]) -> str:
    """One statement that cuts the values already longer than their bound (a library written
    before the guards), so that the guards hold from the start."""
    cuts = ", ".join(f"{name} = substr({name}, 1, {limit})" for name, limit in bounds.items())
    over = " OR ".join(f"length({name}) > {limit}" for name, limit in bounds.items())
    return f"UPDATE {table} SET {cuts} WHERE {over}"
