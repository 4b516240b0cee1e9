"""Photo bytes for the load tests (no Locust here: importing it patches the process)."""

from __future__ import annotations

import uuid


def unique(data: bytes) -> bytes:
    """The same JPEG made a new file: a comment with a fresh id after the SOI marker (every
    upload must be new, or it is only a duplicate found by its hash)."""
    comment = f"albumen loadtest {uuid.uuid4()}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return data[:2] + segment + data[2:]
