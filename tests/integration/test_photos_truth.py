"""Metadata and thumbnails against exiftool's ground truth on real camera files."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from albumen.adapters.exif import PillowMetadataReader
from albumen.adapters.geo import OfflineGeocoder
from albumen.adapters.media import VipsThumbnailer
from albumen.domain.errors import AlbumenError
from albumen.domain.media import MediaType, sniff
from albumen.domain.metadata import PhotoMetadata, zone_offset_minutes
from albumen.domain.photos import ThumbFormat, ThumbSize

MIN_AGREEMENT = 0.98


def _rows(photos_dir: Path) -> list[dict[str, str]]:
    with (photos_dir / "truth.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def _media(path: Path) -> MediaType | None:
    try:
        return sniff(path.read_bytes()[:64], path.name)
    except AlbumenError:
        return None


def _read(path: Path) -> PhotoMetadata | None:
    media = _media(path)
    if media is None:
        return None
    try:
        return PillowMetadataReader(250_000_000).read(path, media)
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


@pytest.mark.photos
def test_metadata_agrees_with_exiftool(photos_dir: Path) -> None:
    agree: Counter[str] = Counter()
    carried: Counter[str] = Counter()
    misses: list[str] = []
    for row in _rows(photos_dir):
        meta = _read(photos_dir / row["filename"])
        for field, check in CHECKS.items():
            verdict = check(row, meta)
            if verdict is None:
                continue
            carried[field] += 1
            agree[field] += verdict
            if not verdict:
                misses.append(f"{field}: {row['filename']}")
    assert carried["date_taken"] >= 50  # the set did not shrink
    assert carried["gps"] >= 10
    for field in CHECKS:
        share = agree[field] / carried[field]
        assert share >= MIN_AGREEMENT, f"{field} agrees on {share:.1%}: {misses}"


@pytest.mark.photos
def test_every_decodable_file_gets_upright_thumbnails(photos_dir: Path) -> None:
    thumbnailer = VipsThumbnailer(250_000_000)
    for row in _rows(photos_dir):
        if row["decodes"] == "no" or row["kind"] == "corrupt" or not row["width"]:
            continue
        path = photos_dir / row["filename"]
        media = _media(path)
        assert media is not None, row["filename"]
        renditions = thumbnailer.render(
            path, media, [ThumbSize.THUMB, ThumbSize.PREVIEW], ThumbFormat.WEBP
        )
        width, height = int(row["width"]), int(row["height"])
        for rendition in renditions:
            assert max(rendition.width, rendition.height) <= rendition.size.box[0]
            # same shape as the upright original (a quarter turn would swap the aspect)
            assert abs(rendition.width / rendition.height - width / height) < 0.05, row["filename"]


@pytest.mark.photos
@pytest.mark.parametrize(
    "name",
    [
        "derived_DSCN0012_truncated.jpg",
        "derived_IMG_5195_truncated.HEIC",
        "pillow_truncated_jpeg.jpg",
        "pillow_truncated_image.png",
        "pillow_broken.png",
        "pillow_broken_data_stream.png",
    ],
)
def test_broken_files_give_a_clear_error(photos_dir: Path, name: str) -> None:
    path = photos_dir / name
    media = _media(path)
    assert media is not None
    with pytest.raises(AlbumenError) as caught:
        VipsThumbnailer(250_000_000).render(path, media, [ThumbSize.THUMB], ThumbFormat.WEBP)
    assert caught.value.code == "corrupt_media"
    assert caught.value.message


@pytest.mark.photos
@pytest.mark.parametrize(
    ("name", "code"),
    [("derived_empty.jpg", "empty_file"), ("derived_text_not_image.jpg", "unsupported_media")],
)
def test_non_images_are_refused_by_sniffing(photos_dir: Path, name: str, code: str) -> None:
    with pytest.raises(AlbumenError) as caught:
        sniff((photos_dir / name).read_bytes()[:64], name)
    assert caught.value.code == code


@pytest.mark.photos
def test_sniffed_mime_matches_exiftool(photos_dir: Path) -> None:
    wrong = []
    for row in _rows(photos_dir):
        media = _media(photos_dir / row["filename"])
        if media is None or row["mime"] in ("", "text/plain"):
            continue
        expected = {"image/x-canon-cr2": "image/x-canon-cr2", "image/heif": "image/heic"}.get(
            row["mime"], row["mime"]
        )
        if media.mime != expected:
            wrong.append((row["filename"], media.mime, row["mime"]))
    assert not wrong


@pytest.mark.photos
def test_positions_get_place_names_and_their_time_zones_agree_with_the_files(
    photos_dir: Path,
) -> None:
    """Every located photo is near a named place; where a file records its UTC offset too, the
    time zone at its position gives the same offset (one camera in the set kept its home zone,
    which is why it is most, not all)."""
    geocoder = OfflineGeocoder()
    located = agree = both = 0
    for row in _rows(photos_dir):
        meta = _read(photos_dir / row["filename"])
        if meta is None or meta.location is None:
            continue
        located += 1
        where = meta.location
        assert geocoder.place(where.lat, where.lon) is not None, row["filename"]
        if meta.taken_at is not None and meta.taken_at.offset_minutes is not None:
            zone = geocoder.timezone(where.lat, where.lon)
            assert zone is not None
            both += 1
            agree += zone_offset_minutes(zone, meta.taken_at.local) == meta.taken_at.offset_minutes
    assert located >= 10
    assert both >= 3
    assert agree / both >= 0.7
