"""Metadata and thumbnails against exiftool's ground truth on real camera files."""

from __future__ import annotations

from pathlib import Path

import pytest

from albumen.adapters.geo import OfflineGeocoder
from albumen.adapters.media import VipsThumbnailer
from albumen.domain.errors import AlbumenError
from albumen.domain.media import sniff
from albumen.domain.metadata import zone_offset_minutes
from albumen.domain.photos import ThumbFormat, ThumbSize
from tests.truth import MIN_AGREEMENT, agreement, media_of, read, rows


@pytest.mark.photos
def test_metadata_agrees_with_exiftool(photos_dir: Path) -> None:
    readings = [(row, read(photos_dir / row["filename"])) for row in rows(photos_dir)]
    shares, carried, misses = agreement(readings)
    assert carried["date_taken"] >= 50  # the set did not shrink
    assert carried["gps"] >= 10
    for field, share in shares.items():
        assert share >= MIN_AGREEMENT, f"{field} agrees on {share:.1%}: {misses}"


@pytest.mark.photos
def test_every_decodable_file_gets_upright_thumbnails(photos_dir: Path) -> None:
    thumbnailer = VipsThumbnailer(250_000_000)
    for row in rows(photos_dir):
        if row["decodes"] == "no" or row["kind"] == "corrupt" or not row["width"]:
            continue
        path = photos_dir / row["filename"]
        media = media_of(path)
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
    media = media_of(path)
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
    for row in rows(photos_dir):
        media = media_of(photos_dir / row["filename"])
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
    for row in rows(photos_dir):
        meta = read(photos_dir / row["filename"])
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
