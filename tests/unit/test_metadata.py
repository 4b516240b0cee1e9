"""Rules for reading what a photo says about itself."""

from __future__ import annotations

from datetime import datetime

import pytest

from albumen.domain.errors import InvalidInput, UnsupportedMedia
from albumen.domain.media import safe_filename, sniff
from albumen.domain.metadata import (
    checked_location,
    checked_orientation,
    file_modified,
    parse_datetime,
)


@pytest.mark.parametrize(
    ("raw", "subsec", "offset", "local", "minutes"),
    [
        ("2021:04:11 15:47:53", "054", "-05:00", datetime(2021, 4, 11, 15, 47, 53, 54000), -300),
        ("2013:07:05 03:18:27Z", None, None, datetime(2013, 7, 5, 3, 18, 27), 0),
        ("2022:01:10 15:15:44-04:00", None, None, datetime(2022, 1, 10, 15, 15, 44), -240),
        ("2019:06:06 07:29:51.00", None, None, datetime(2019, 6, 6, 7, 29, 51), None),
        ("2009:09:09 20:27:09.60:04:00", None, None, datetime(2009, 9, 9, 20, 27, 9, 600000), None),
        ("2020-02-29T23:59:59+05:30", None, None, datetime(2020, 2, 29, 23, 59, 59), 330),
        (b"2004:06:09 16:02:35\x00", "00", None, datetime(2004, 6, 9, 16, 2, 35), None),
    ],
)
def test_dates_parse_with_their_offset(
    raw: object, subsec: str | None, offset: str | None, local: datetime, minutes: int | None
) -> None:
    taken = parse_datetime(raw, subsec, offset)
    assert taken is not None
    assert taken.local == local
    assert taken.offset_minutes == minutes


@pytest.mark.parametrize(
    "raw",
    ["0000:00:00 00:00:00", "2021:13:01 00:00:00", "    ", "", None, "yesterday", "1700:01:01"],
)
def test_impossible_dates_are_none(raw: object) -> None:
    assert parse_datetime(raw) is None


def test_absurd_offset_is_unknown_not_wrong() -> None:
    taken = parse_datetime("2020:01:01 10:00:00", offset="+99:00")
    assert taken is not None
    assert taken.offset_minutes is None
    assert taken.utc is None


def test_utc_from_offset() -> None:
    taken = parse_datetime("2020:01:01 01:00:00", offset="+02:00")
    assert taken is not None
    assert taken.utc == datetime(2019, 12, 31, 23, 0)
    assert taken.isoformat() == "2020-01-01T01:00:00+02:00"


def test_gps_off_the_globe_is_rejected() -> None:
    assert checked_location(91.0, 10.0, None) is None
    assert checked_location(10.0, -181.0, None) is None
    assert checked_location(float("nan"), 1.0, None) is None
    kept = checked_location(-33.9, 151.2, 1e9)
    assert kept is not None
    assert kept.alt is None


def test_orientation_must_be_one_to_eight() -> None:
    assert [checked_orientation(v) for v in (0, 1, 8, 9, "6", None)] == [None, 1, 8, None, 6, None]


@pytest.mark.parametrize(
    ("head", "name", "mime"),
    [
        (b"\xff\xd8\xff\xe1" + b"\0" * 20, "x.png", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "x.jpg", "image/png"),
        (b"GIF89a" + b"\0" * 20, "", "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 20, "", "image/webp"),
        (b"II*\x00\x10\x00\x00\x00CR" + b"\0" * 20, "x.tif", "image/x-canon-cr2"),
        (b"MM\x00*" + b"\0" * 20, "photo.NEF", "image/x-nikon-nef"),
        (b"II*\x00" + b"\0" * 20, "scan.tif", "image/tiff"),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 8, "", "image/heic"),
        (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf" + b"\0" * 8, "", "image/avif"),
    ],
)
def test_sniffing_reads_bytes_not_names(head: bytes, name: str, mime: str) -> None:
    assert sniff(head, name).mime == mime


def test_sniffing_refuses_non_images() -> None:
    with pytest.raises(UnsupportedMedia):
        sniff(b"%PDF-1.7\n" + b"\0" * 20, "paper.jpg")
    with pytest.raises(InvalidInput):
        sniff(b"", "empty.jpg")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\me\\IMG_1.JPG", "IMG_1.JPG"),
        ("..", "upload"),
        ("\x00evil\n.jpg", "evil.jpg"),
        (None, "upload"),
        ("é" * 200, "é" * 127),
    ],
)
def test_safe_filename(name: str | None, safe: str) -> None:
    assert safe_filename(name) == safe


NOW = datetime(2026, 12, 7, 12, 0)


@pytest.mark.parametrize(
    ("sent", "local", "offset"),
    [
        ("2019-03-05T09:00:00+01:00", datetime(2019, 3, 5, 9, 0), 60),
        ("2019-03-05T08:00:00Z", datetime(2019, 3, 5, 8, 0), 0),
        ("2019-03-05T09:00:00.250-05:30", datetime(2019, 3, 5, 9, 0), -330),
        ("2019-03-05T09:00:00", datetime(2019, 3, 5, 9, 0), None),  # local, offset unknown
        ("2026-12-08T10:00:00+00:00", datetime(2026, 12, 8, 10, 0), 0),  # a clock a bit ahead
    ],
)
def test_a_files_date_from_its_uploader(sent: str, local: datetime, offset: int | None) -> None:
    taken = file_modified(sent, NOW)
    assert (taken.local, taken.offset_minutes) == (local, offset)
    assert taken.source.startswith("the file's modification time")


@pytest.mark.parametrize(
    "sent",
    ["yesterday", "", "2019-13-01T00:00:00", "1800-01-01T00:00:00", "2027-01-01T00:00:00Z",
     "9999-12-31T23:59:59-12:00", "2019-03-05T09:00:00+23:00"],
)  # fmt: skip
def test_a_files_date_that_no_photo_can_have_is_refused(sent: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        file_modified(sent, NOW)
    assert refused.value.code == "invalid_modified_at"
