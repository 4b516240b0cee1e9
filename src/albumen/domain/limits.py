"""How long each kind of text the library keeps may be.

The schema declares these lengths (``adapters.db.tables``) and both worlds enforce them; the code
that writes a value bounds it first, so that no value from a file, a client or a computation can
reach the database too long.
"""

from __future__ import annotations

NAME = 200  # a user's, an album's, a person's, an API key's or a place's name
FILENAME_BYTES = 255  # a client's file name, in UTF-8 bytes (what file systems allow)
TAG = 100
CAMERA_TEXT = 200  # make, model and lens, as the file says them
DATE_SOURCE = 200  # where a photo's date and its offset came from, in words
WORKER = 120  # a worker's name (host:pid:start) and the models' versions
UPLOAD_WRITER = 160  # a request's token and its process's name


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, without a space left dangling."""
    return text if len(text) <= limit else text[:limit].rstrip()
