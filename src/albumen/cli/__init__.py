"""The ``albumen`` command.

Every command imports what it uses when it runs (the composition root, the web stack, the
models), so that ``--help`` and ``config show`` start in a blink and ``users add`` opens only
the database. ``main`` turns an ``AlbumenError`` (a user's mistake: an unknown name, a bad
value) into one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys

from albumen.cli import durability, library, operations, serving, users  # noqa: F401 (commands)
from albumen.cli.base import USER_ERROR, app
from albumen.domain.errors import AlbumenError


def main() -> None:
    try:
        app()
    except AlbumenError as err:
        print(f"error: {err.message}", file=sys.stderr)  # one line, however wide
        sys.exit(USER_ERROR)
