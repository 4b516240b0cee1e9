"""``PillowMetadataReader``: EXIF, XMP and IPTC of every supported format.

Pillow (with pillow-heif for HEIC) opens the container lazily, so only the header and the
metadata blocks are read; a PNG's and a WebP's blocks come from their chunks (``chunks``), so
that late or ImageMagick-style blocks are found, and a WebP that does not decode keeps its
metadata. TIFF-based RAW files go to ExifRead and LibRaw (rawpy) instead.
Raw tag values are turned into checked values by ``albumen.domain.metadata``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import exifread
import pillow_heif
from PIL import Image, IptcImagePlugin, UnidentifiedImageError

from albumen.adapters.chunks import Blocks, png_blocks, webp_blocks
from albumen.domain.errors import CorruptMedia, TooLarge
from albumen.domain.media import PNG, WEBP, MediaType
from albumen.domain.metadata import (
    Camera,
    Exposure,
    Location,
    PhotoMetadata,
    TakenAt,
    as_float,
    checked_exposure,
    checked_location,
    checked_orientation,
    clean_text,
    parse_datetime,
    swaps_axes,
)

pillow_heif.register_heif_opener()

IFD0, EXIF_IFD, GPS_IFD = 0, 0x8769, 0x8825
MAKE, MODEL, ORIENTATION = 0x010F, 0x0110, 0x0112
DATE_ORIGINAL, DATE_DIGITIZED = 0x9003, 0x9004
OFFSET_ORIGINAL, OFFSET_DIGITIZED = 0x9011, 0x9012
SUBSEC_ORIGINAL, SUBSEC_DIGITIZED = 0x9291, 0x9292
ISO, F_NUMBER, EXPOSURE_TIME, FOCAL_LENGTH = 0x8827, 0x829D, 0x829A, 0x920A
LENS_MAKE, LENS_MODEL = 0xA433, 0xA434


def _xmp(name: str) -> re.Pattern[bytes]:
    return re.compile(rb"\b" + name.encode() + rb"""(?:\s*=\s*["']([^"']*)["']|\s*>([^<]*)<)""")


_XMP = {
    name: _xmp(name)
    for name in (
        "exif:DateTimeOriginal",
        "photoshop:DateCreated",
        "xmp:CreateDate",
        "tiff:Orientation",
        "tiff:Make",
        "tiff:Model",
    )
}


class PillowMetadataReader:
    def __init__(self, max_pixels: int) -> None:
        self._max_pixels = max_pixels

    def read(self, path: Path, media: MediaType) -> PhotoMetadata:
        if media.is_raw:
            return _read_raw(path)
        blocks = _container_blocks(path, media)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow warns on odd EXIF; we check values
                with Image.open(path) as image:
                    return self._read_image(image, blocks)
        except Image.DecompressionBombError as err:
            raise TooLarge(f"too many pixels to decode safely: {err}") from err
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            if blocks.size is None:
                raise CorruptMedia(f"cannot read the image header: {err}") from err
        # the pixels do not decode, but the container says its size and holds the metadata
        return self._read_tags(_Tags.of_blocks(blocks), *blocks.size, container_oriented=False)

    def _read_image(self, image: Image.Image, blocks: Blocks) -> PhotoMetadata:
        tags = _Tags.of_image(image, blocks)
        return self._read_tags(tags, *image.size, container_oriented=_container_oriented(image))

    def _read_tags(
        self, tags: _Tags, width: int, height: int, *, container_oriented: bool
    ) -> PhotoMetadata:
        if width * height > self._max_pixels:
            raise TooLarge(f"{width}x{height} pixels is more than this server decodes")
        orientation = tags.orientation()
        if swaps_axes(orientation) and not container_oriented:
            width, height = height, width
        return PhotoMetadata(
            width=width,
            height=height,
            orientation=orientation,
            taken_at=tags.taken_at(),
            location=tags.location(),
            camera=tags.camera(),
            exposure=tags.exposure(),
        )


def _container_oriented(image: Image.Image) -> bool:
    """pillow-heif reports HEIF sizes with the container's irot/imir already applied."""
    return image.format == "HEIF"


def _container_blocks(path: Path, media: MediaType) -> Blocks:
    """What a PNG's or WebP's chunks hold, read without the pixels (see ``chunks``)."""
    reader = {PNG: png_blocks, WEBP: webp_blocks}.get(media)
    return (_safe(lambda: reader(path)) or Blocks()) if reader else Blocks()


class _Tags:
    """The metadata blocks of one image, read on demand."""

    def __init__(
        self,
        info: dict[str | tuple[int, int], Any],
        exif: Image.Exif,
        xmp: bytes,
        iptc: dict[tuple[int, int], Any],
    ) -> None:
        self._info = info
        self._exif = exif
        self._ifd0: dict[int, Any] = dict(exif)
        self._sub: dict[int, Any] = _safe(lambda: dict(exif.get_ifd(EXIF_IFD))) or {}
        self._gps: dict[int, Any] = _safe(lambda: dict(exif.get_ifd(GPS_IFD))) or {}
        self._xmp = xmp
        self._iptc = iptc

    @classmethod
    def of_image(cls, image: Image.Image, blocks: Blocks) -> _Tags:
        """An opened image's tags; a container's own blocks where Pillow found none (and, for
        a PNG, instead of Pillow's reading, which decodes the pixels to reach late chunks)."""
        exif = _exif(blocks.exif) if image.format == "PNG" else _safe(image.getexif)
        if not exif and blocks.exif:
            exif = _exif(blocks.exif)
        iptc = _safe(lambda: _iptc(image)) or {}
        return cls(image.info, exif or Image.Exif(), _xmp_bytes(image) or blocks.xmp or b"", iptc)

    @classmethod
    def of_blocks(cls, blocks: Blocks) -> _Tags:
        """The tags of a file whose pixels do not decode, from its container alone."""
        return cls({}, _exif(blocks.exif), blocks.xmp or b"", {})

    def orientation(self) -> int | None:
        """The transform from stored to displayed pixels, as an EXIF orientation value.

        pillow-heif applies a HEIF's irot/imir itself and keeps the tag as
        ``original_orientation``; Pillow's AVIF plugin writes the container's transform into the
        EXIF it exposes; for other formats Pillow falls back to XMP ``tiff:Orientation``.
        """
        raw = self._info.get("original_orientation")
        raw = raw if raw is not None else self._ifd0.get(ORIENTATION)
        return checked_orientation(raw if raw is not None else self._xmp_value("tiff:Orientation"))

    def taken_at(self) -> TakenAt | None:
        for source, reader in self._date_sources():
            found = reader()
            if found is not None:
                return TakenAt(found.local, found.offset_minutes, source)
        return None

    def _date_sources(self) -> list[tuple[str, Callable[[], TakenAt | None]]]:
        sub = self._sub
        return [
            (
                "ExifIFD:DateTimeOriginal",
                lambda: parse_datetime(
                    sub.get(DATE_ORIGINAL), sub.get(SUBSEC_ORIGINAL), sub.get(OFFSET_ORIGINAL)
                ),
            ),
            ("IPTC:DateCreated", self._iptc_date),
            ("XMP-exif:DateTimeOriginal", lambda: self._xmp_date("exif:DateTimeOriginal")),
            ("XMP-photoshop:DateCreated", lambda: self._xmp_date("photoshop:DateCreated")),
            (
                "ExifIFD:CreateDate",
                lambda: parse_datetime(
                    sub.get(DATE_DIGITIZED), sub.get(SUBSEC_DIGITIZED), sub.get(OFFSET_DIGITIZED)
                ),
            ),
            ("XMP-xmp:CreateDate", lambda: self._xmp_date("xmp:CreateDate")),
        ]

    def location(self) -> Location | None:
        gps = self._gps
        lat = _dms(gps.get(2), gps.get(1), b"S")
        lon = _dms(gps.get(4), gps.get(3), b"W")
        alt = as_float(gps.get(6))
        if alt is not None and _ref(gps.get(5)) in (b"\x01", b"1"):
            alt = -alt
        return checked_location(lat, lon, alt)

    def camera(self) -> Camera:
        make = clean_text(self._ifd0.get(MAKE)) or clean_text(self._xmp_value("tiff:Make"))
        model = clean_text(self._ifd0.get(MODEL)) or clean_text(self._xmp_value("tiff:Model"))
        return Camera(make=make, model=model, lens=clean_text(self._sub.get(LENS_MODEL)))

    def exposure(self) -> Exposure:
        sub = self._sub
        return checked_exposure(
            sub.get(ISO), sub.get(F_NUMBER), sub.get(EXPOSURE_TIME), sub.get(FOCAL_LENGTH)
        )

    def _iptc_date(self) -> TakenAt | None:
        day = self._iptc.get((2, 55))
        if not isinstance(day, bytes) or len(day) != 8:
            return None
        time = self._iptc.get((2, 60))
        stamp = f"{day[:4].decode()}:{day[4:6].decode()}:{day[6:].decode()}"
        if isinstance(time, bytes) and len(time) >= 6:
            text = time.decode("ascii", "replace")
            stamp += f" {text[:2]}:{text[2:4]}:{text[4:6]}{_iptc_offset(text[6:])}"
        return parse_datetime(stamp)

    def _xmp_value(self, name: str) -> str | None:
        if not self._xmp:
            return None
        match = _XMP[name].search(self._xmp)
        if match is None:
            return None
        value = (match.group(1) or match.group(2) or b"").strip()
        return value.decode("utf-8", "replace") or None

    def _xmp_date(self, name: str) -> TakenAt | None:
        return parse_datetime(self._xmp_value(name))


def _iptc_offset(text: str) -> str:
    if len(text) == 5 and text[0] in "+-" and text[1:].isdigit():
        return f"{text[:3]}:{text[3:]}"
    return ""


def _exif(block: bytes | None) -> Image.Exif:
    exif = Image.Exif()
    if block:
        _safe(lambda: exif.load(block))
    return exif


def _safe(func: Callable[[], Any]) -> Any:
    try:
        return func()
    except Exception:
        return None


def _xmp_bytes(image: Image.Image) -> bytes:
    raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    return raw.encode() if isinstance(raw, str) else bytes(raw)


def _iptc(image: Image.Image) -> dict[tuple[int, int], Any]:
    if image.format not in {"JPEG", "MPO", "TIFF"}:
        return {}
    info = IptcImagePlugin.getiptcinfo(image)  # type: ignore[arg-type]  # any opened image works
    return {key: (v[0] if isinstance(v, list) else v) for key, v in (info or {}).items()}


def _ref(raw: Any) -> bytes:
    if isinstance(raw, str):
        return raw.strip().encode()
    if isinstance(raw, bytes):
        return raw.strip(b"\x00 ")
    if isinstance(raw, int):
        return str(raw).encode()
    return b""


def _dms(raw: Any, ref: Any, negative: bytes) -> float | None:
    if not isinstance(raw, (tuple, list)) or len(raw) != 3:
        return None
    parts = [as_float(part) for part in raw]
    if any(part is None for part in parts):
        return None
    degrees, minutes, seconds = (p for p in parts if p is not None)
    value = degrees + minutes / 60 + seconds / 3600
    return -value if _ref(ref).upper() == negative else value


def _read_raw(path: Path) -> PhotoMetadata:
    with path.open("rb") as file:
        tags = _safe(lambda: exifread.process_file(file, details=True))
    if not tags:
        raise CorruptMedia("no readable metadata in the RAW file")
    orientation = checked_orientation(_first(tags.get("Image Orientation")))
    width, height = _raw_size(tags)
    if swaps_axes(orientation):
        width, height = height, width
    text = {key: str(value) for key, value in tags.items()}
    taken = parse_datetime(
        text.get("EXIF DateTimeOriginal"),
        text.get("EXIF SubSecTimeOriginal"),
        text.get("EXIF OffsetTimeOriginal"),
    )
    return PhotoMetadata(
        width=width,
        height=height,
        orientation=orientation,
        taken_at=TakenAt(taken.local, taken.offset_minutes, "ExifIFD:DateTimeOriginal")
        if taken
        else None,
        location=None,
        camera=Camera(
            clean_text(text.get("Image Make")),
            clean_text(text.get("Image Model")),
            clean_text(text.get("EXIF LensModel")),
        ),
        exposure=checked_exposure(
            _first(tags.get("EXIF ISOSpeedRatings")),
            _first(tags.get("EXIF FNumber")),
            _first(tags.get("EXIF ExposureTime")),
            _first(tags.get("EXIF FocalLength")),
        ),
    )


def _first(tag: Any) -> Any:
    values = getattr(tag, "values", None)
    if isinstance(values, list) and values:
        value = values[0]
        return float(value.num) / value.den if hasattr(value, "den") and value.den else value
    return values


def _raw_size(tags: dict[str, Any]) -> tuple[int | None, int | None]:
    """The largest image a RAW file describes: the sensor data, not a preview in IFD0."""
    sizes = []
    for key, tag in tags.items():
        if key.endswith("ImageWidth"):
            height = tags.get(key.removesuffix("Width") + "Length")
            width, length = _first(tag), _first(height)
            if isinstance(width, int) and isinstance(length, int):
                sizes.append((width, length))
    return max(sizes, key=lambda wh: wh[0] * wh[1]) if sizes else (None, None)
