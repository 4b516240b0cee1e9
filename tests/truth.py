"""exiftool's truth about ``../shared/photos`` (its ``truth.csv``), and how to score a reading
of those files against it, field by field."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from albumen.adapters.exif import PillowMetadataReader
from albumen.domain.errors import AlbumenError
from albumen.domain.media import MediaType, sniff
from albumen.domain.metadata import PhotoMetadata

MIN_AGREEMENT = 0.98


def rows(photos_dir: Path) -> list[dict[str, str]]:
    with (photos_dir / "truth.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def media_of(path: Path) -> MediaType | None:
    try:
        return sniff(path.read_bytes()[:64], path.name)
    except AlbumenError:
        return None


def read(path: Path) -> PhotoMetadata | None:
    found = media_of(path)
    if found is None:
        return None
    try:
        return PillowMetadataReader(250_000_000).read(path, found)
    except AlbumenError:
        return None


Meta = PhotoMetadata | None


def _date(row: dict[str, str], meta: Meta) -> bool | None:
    if not row["date_taken"]:
        return None
    got = meta.taken_at.isoformat() if meta and meta.taken_at else ""
    return got[:19] == row["date_taken_iso"][:19]


def _offset(row: dict[str, str], meta: Meta) -> bool | None:
    if not row["offset"]:
        return None
    want = "+00:00" if row["offset"] == "Z" else row["offset"]
    aware = meta.taken_at.aware if meta and meta.taken_at else None
    return aware is not None and aware.isoformat().endswith(want)


def _gps(row: dict[str, str], meta: Meta) -> bool | None:
    if not row["gps_lat"]:
        return None
    lat, lon = float(row["gps_lat"]), float(row["gps_lon"])
    where = meta.location if meta else None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return where is None  # impossible values are rejected
    return where is not None and abs(where.lat - lat) < 1e-5 and abs(where.lon - lon) < 1e-5


def _camera(column: str) -> Callable[[dict[str, str], Meta], bool | None]:
    def check(row: dict[str, str], meta: Meta) -> bool | None:
        if not row[column]:
            return None
        return meta is not None and getattr(meta.camera, column) == row[column].strip()

    return check


def _orientation(row: dict[str, str], meta: Meta) -> bool | None:
    if not row["orientation"]:
        return None
    stored = int(row["orientation"]) or None  # 0: an invalid value is in the file
    return meta is not None and meta.orientation == stored


def _size(row: dict[str, str], meta: Meta) -> bool | None:
    if not row["width"] or row["kind"] == "corrupt":
        return None
    want = (int(row["width"]), int(row["height"]))
    return meta is not None and (meta.width, meta.height) == want


CHECKS: dict[str, Callable[[dict[str, str], Meta], bool | None]] = {
    "date_taken": _date,
    "offset": _offset,
    "gps": _gps,
    "make": _camera("make"),
    "model": _camera("model"),
    "orientation": _orientation,
    "size": _size,
}


def agreement(
    readings: Iterable[tuple[dict[str, str], Meta]],
) -> tuple[dict[str, float], Counter[str], list[str]]:
    """Each field's share of agreement with exiftool over ``readings`` (a truth row and what
    was read of its file), how many files carried each field, and the misses by name."""
    agree: Counter[str] = Counter()
    carried: Counter[str] = Counter()
    misses: list[str] = []
    for row, meta in readings:
        for field, check in CHECKS.items():
            verdict = check(row, meta)
            if verdict is None:
                continue
            carried[field] += 1
            agree[field] += verdict
            if not verdict:
                misses.append(f"{field}: {row['filename']}")
    shares = {field: agree[field] / carried[field] for field in CHECKS if carried[field]}
    return shares, carried, misses
