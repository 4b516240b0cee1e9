"""What a photo says about itself, and the rules for reading it sanely.

Readers in ``albumen.adapters`` pull raw tag values out of files; the functions here turn them
into checked values: dates with their offset, GPS inside the globe, exposure numbers that exist.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from albumen.domain.errors import InvalidInput
from albumen.domain.limits import CAMERA_TEXT, DATE_SOURCE, clip

_DATE_RE = re.compile(
    r"^\s*(?P<y>\d{4})[:\-](?P<mo>\d{2})[:\-](?P<d>\d{2})"
    r"(?:[ T](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:[.,](?P<frac>\d+))?)?"
    r"(?P<rest>.*)$"
)
_OFFSET_RE = re.compile(r"^\s*(?P<sign>[+\-])(?P<h>\d{2}):?(?P<m>\d{2})\s*$")
MIN_YEAR = 1826  # the oldest surviving photograph


@dataclass(frozen=True, slots=True)
class TakenAt:
    """When a photo was taken, as the camera's clock showed it, and its UTC offset if known."""

    local: datetime  # naive: wall-clock time where the photo was taken
    offset_minutes: int | None
    source: str

    @property
    def aware(self) -> datetime | None:
        if self.offset_minutes is None:
            return None
        return self.local.replace(tzinfo=timezone(timedelta(minutes=self.offset_minutes)))

    @property
    def utc(self) -> datetime | None:
        aware = self.aware
        return None if aware is None else aware.astimezone(UTC).replace(tzinfo=None)

    def isoformat(self) -> str:
        aware = self.aware
        return (aware or self.local).isoformat()


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float
    alt: float | None = None


@dataclass(frozen=True, slots=True)
class Camera:
    make: str | None = None
    model: str | None = None
    lens: str | None = None


@dataclass(frozen=True, slots=True)
class Exposure:
    iso: int | None = None
    f_number: float | None = None
    exposure_time: float | None = None  # seconds
    focal_length: float | None = None  # millimetres


@dataclass(frozen=True, slots=True)
class PhotoMetadata:
    """Everything the metadata job learns from a file."""

    width: int | None
    height: int | None
    orientation: int | None = None
    taken_at: TakenAt | None = None
    location: Location | None = None
    camera: Camera = field(default_factory=Camera)
    exposure: Exposure = field(default_factory=Exposure)


def parse_datetime(raw: object, subsec: object = None, offset: object = None) -> TakenAt | None:
    """A date tag's value (``YYYY:MM:DD HH:MM:SS[.fff][±HH:MM|Z]``) as a checked ``TakenAt``.

    ``subsec`` and ``offset`` are the SubSecTime* and OffsetTime* companions of the tag. Returns
    ``None`` for values that are missing, blank (``0000:00:00``), malformed or impossible.
    """
    match = _DATE_RE.match(_text(raw) or "")
    if match is None:
        return None
    parts = match.groupdict()
    frac = parts["frac"] or _digits(subsec)
    try:
        local = datetime(
            int(parts["y"]),
            int(parts["mo"]),
            int(parts["d"]),
            int(parts["h"] or 0),
            int(parts["mi"] or 0),
            int(parts["s"] or 0),
            int((frac or "0")[:6].ljust(6, "0")),
        )
    except ValueError:
        return None
    if local.year < MIN_YEAR or local.year > 2200:
        return None
    rest = parts["rest"].strip()
    # A malformed suffix (seen: ".60:04:00") leaves the offset unknown rather than guessed.
    minutes = parse_offset(rest) if rest else parse_offset(offset)
    return TakenAt(local=local, offset_minutes=minutes, source="")


def zone_offset_minutes(zone: str, local: datetime) -> int | None:
    """The UTC offset, in minutes, of an IANA time zone at a wall-clock time there."""
    try:
        offset = local.replace(tzinfo=ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return None if offset is None else int(offset.total_seconds()) // 60


def parse_offset(raw: object) -> int | None:
    """``+02:00`` / ``-0530`` / ``Z`` as minutes east of UTC; ``None`` when absent or absurd."""
    text = _text(raw)
    if text is None:
        return None
    if text.strip() == "Z":
        return 0
    match = _OFFSET_RE.match(text)
    if match is None:
        return None
    minutes = int(match["h"]) * 60 + int(match["m"])
    if minutes > 14 * 60 or int(match["m"]) >= 60:
        return None
    return -minutes if match["sign"] == "-" else minutes


def checked_location(lat: float | None, lon: float | None, alt: float | None) -> Location | None:
    """A GPS fix, or ``None`` when either coordinate is missing, not finite or off the globe."""
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    if alt is not None and not (math.isfinite(alt) and -12_000.0 <= alt <= 100_000.0):
        alt = None
    return Location(lat=lat, lon=lon, alt=alt)


def checked_orientation(raw: object) -> int | None:
    value = as_float(raw)
    return int(value) if value is not None and value == int(value) and 1 <= value <= 8 else None


def swaps_axes(orientation: int | None) -> bool:
    """Orientations 5 to 8 turn the image a quarter: displayed width is the stored height."""
    return orientation is not None and orientation >= 5


def checked_exposure(iso: object, f_number: object, time: object, focal: object) -> Exposure:
    return Exposure(
        iso=_int_in(iso, 1, 10_000_000),
        f_number=_float_in(f_number, 0.1, 1000.0),
        exposure_time=_float_in(time, 1e-7, 86_400.0),
        focal_length=_float_in(focal, 0.1, 100_000.0),
    )


def clean_text(raw: object, limit: int = CAMERA_TEXT) -> str | None:
    """A tag's text with padding, NULs and control characters removed, at most ``limit``
    characters (a file can say anything: one seen had a 60,000-character make); ``None`` if
    blank."""
    text = _text(raw)
    if text is None:
        return None
    text = clip("".join(ch for ch in text if ch.isprintable()).strip(), limit)
    return text or None


def zone_source(source: str, zone: str) -> str:
    """The words that say a date's offset came from the time zone at its GPS position."""
    return clip(f"{source}; offset of {zone} at the GPS position", DATE_SOURCE)


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, (tuple, list)):
        raw = raw[0] if raw else None
    if raw is None:
        return None
    return str(raw).split("\x00", 1)[0].strip() or None  # C strings end at the first NUL


def _digits(raw: object) -> str | None:
    text = _text(raw)
    return text if text and text.isdigit() else None


def as_float(raw: object) -> float | None:
    """A finite number from a tag value (int, rational, text, or the first of a tuple)."""
    if isinstance(raw, (tuple, list)):
        raw = raw[0] if raw else None
    try:
        value = float(raw)  # type: ignore[arg-type]  # anything: what float refuses is caught
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) else None


def _int_in(raw: object, low: int, high: int) -> int | None:
    value = as_float(raw)
    return int(value) if value is not None and low <= value <= high else None


def _float_in(raw: object, low: float, high: float) -> float | None:
    value = as_float(raw)
    return round(value, 6) if value is not None and low <= value <= high else None


FILE_MODIFIED = "the file's modification time, from its uploader"
MAX_OFFSET_MINUTES = 14 * 60  # UTC-12:00 to UTC+14:00, with room for history's odd ones


def file_modified(text: str, now: datetime) -> TakenAt:
    """An uploader's ISO 8601 time of the file's last modification (``2019-03-05T09:00:00+01:00``,
    or without an offset: local time), which dates a photo whose contents have no date.

    ``InvalidInput`` when it is not such a time, is before photography or after ``now`` (UTC,
    naive) by more than a day."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"modified_at {text[:40]!r} is not a time like 2019-03-05T09:00:00+01:00",
            code="invalid_modified_at",
        ) from None
    offset = when.utcoffset()
    minutes = None if offset is None else round(offset.total_seconds() / 60)
    local = when.replace(tzinfo=None, microsecond=0)
    taken = TakenAt(local, minutes, FILE_MODIFIED)
    latest = now + timedelta(days=1)
    if (
        local.year < MIN_YEAR
        or local > latest + timedelta(days=1)  # before the offset: far years overflow UTC
        or (minutes is not None and abs(minutes) > MAX_OFFSET_MINUTES)
        or (taken.utc or local) > latest
    ):
        raise InvalidInput(
            f"modified_at {text[:40]!r} is not a time a photo can have",
            code="invalid_modified_at",
        )
    return taken
