"""Words as the search index sees them, and SQLite's ``search_words`` SQL function.

Each owner's vocabulary (``search_terms``: every word their library has held) decides whether
a typed word starts a word of theirs and which of their words are a typo away; the triggers
of migration 0015 keep it, and on SQLite they split text into words with ``search_words``,
registered on every connection (``add_sqlite_functions``). PostgreSQL reads the words of its
own ``tsvector``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata

_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits, as FTS5's unicode61 splits text


def fold(word: str) -> str:
    """Lower case without accents, as the index's tokenizer sees words."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(body: str | None) -> list[str]:
    """The distinct folded words of ``body``, in the order they first appear."""
    return list(dict.fromkeys(_WORD.findall(fold(body or ""))))


def add_sqlite_functions(connection: sqlite3.Connection) -> None:
    """``search_words(text)``: the words of a text as a JSON array (for ``json_each``).
    Every connection that writes photos needs it: the triggers call it."""
    connection.create_function(
        "search_words", 1, lambda body: json.dumps(words(body)), deterministic=True
    )
