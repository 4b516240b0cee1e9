"""HTTP details shared by routes: byte ranges, validators, caching headers."""

from __future__ import annotations

import re
from urllib.parse import quote

IMMUTABLE = "private, max-age=31536000, immutable"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as ``(start, end_exclusive)``; ``None`` means the whole body.

    Several ranges, or a header we do not understand, are answered with the whole body, as
    RFC 9110 allows; a range that starts past the end is not satisfiable.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise RangeNotSatisfiable
    return start, end


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` (weak comparison, as RFC 9110 asks for it)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in tags


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def accepts_webp(accept: str | None) -> bool:
    return accept is not None and "image/webp" in accept
