"""The metadata blocks of PNG and WebP files, read from their chunks without decoding pixels.

Pillow finds EXIF that a PNG keeps in an ``eXIf`` chunk or in ImageMagick's ``Raw profile type
exif`` text, but only when the pixels before it decode, and never in ``Raw profile type APP1``
(ImageMagick's older name for the same block); it reads nothing of a WebP whose bitstream does
not decode. ExifTool reads all of these from the container alone, and so does this module.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
MAX_BLOCK = 4 * 1024 * 1024  # no camera writes more metadata than this; a bomb stops here
_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}


@dataclass(frozen=True, slots=True)
class Blocks:
    """What a container says of itself: EXIF (TIFF bytes), XMP, and the size it declares."""

    exif: bytes | None = None
    xmp: bytes | None = None
    size: tuple[int, int] | None = None


def png_blocks(path: Path) -> Blocks:
    """EXIF and XMP from a PNG's ``eXIf``, text and raw-profile chunks, wherever they lie."""
    exif = xmp = None
    size = None
    with path.open("rb") as file:
        if file.read(8) != PNG_SIGNATURE:
            return Blocks()
        for kind, data in _png_chunks(file):
            if kind == b"IHDR" and len(data) >= 8:
                size = struct.unpack(">II", data[:8])
            elif kind == b"eXIf":
                exif = exif or _tiff(data)
            elif kind in _TEXT_CHUNKS:
                keyword, text = _png_text(kind, data)
                found_exif, found_xmp = _profile(keyword, text)
                exif, xmp = exif or found_exif, xmp or found_xmp
    return Blocks(exif, xmp, size)


def _png_chunks(file: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    while len(header := file.read(8)) == 8:
        length, kind = struct.unpack(">I4s", header)
        if kind == b"IEND":
            return
        if kind == b"IDAT" or length > MAX_BLOCK:  # pixels, or no metadata: skipped unread
            file.seek(length + 4, 1)
            continue
        data = file.read(length)
        file.read(4)  # the CRC: a damaged block is refused by the parsers below, not here
        yield kind, data


def _png_text(kind: bytes, data: bytes) -> tuple[bytes, bytes]:
    keyword, _, rest = data.partition(b"\x00")
    if kind == b"zTXt":
        return keyword, _inflate(rest[1:])
    if kind == b"iTXt":
        compressed, rest = rest[:1], rest[2:]
        _language, _, rest = rest.partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        return keyword, _inflate(text) if compressed == b"\x01" else text
    return keyword, rest


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompressobj().decompress(data, MAX_BLOCK)
    except zlib.error:
        return b""


def _profile(keyword: bytes, text: bytes) -> tuple[bytes | None, bytes | None]:
    """EXIF or XMP from one text chunk: XMP itself, or an ImageMagick raw profile."""
    if keyword == b"XML:com.adobe.xmp":
        return None, text
    if not keyword.startswith(b"Raw profile type "):
        return None, None
    block = _raw_profile(text)
    if block.startswith(XMP_HEADER):
        return None, block[len(XMP_HEADER) :]
    return _tiff(block), None


def _raw_profile(text: bytes) -> bytes:
    """ImageMagick's form: a blank line, the profile's name, its length, then hex digits."""
    lines = text.split(b"\n")
    if len(lines) < 4:
        return b""
    digits = b"".join(b"".join(line.split()) for line in lines[3:])
    try:
        return bytes.fromhex(digits.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return b""


def _tiff(block: bytes) -> bytes | None:
    """TIFF-structured EXIF, with or without the ``Exif\\0\\0`` header of a JPEG APP1."""
    block = block.removeprefix(EXIF_HEADER)
    return block if block[:4] in (b"II*\x00", b"MM\x00*") else None


def webp_blocks(path: Path) -> Blocks:
    """EXIF, XMP and the canvas size from a WebP's RIFF chunks (``VP8X``, ``EXIF``, ``XMP``)."""
    found: dict[bytes, bytes] = {}
    with path.open("rb") as file:
        riff = file.read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:] != b"WEBP":
            return Blocks()
        while len(header := file.read(8)) == 8:
            kind, length = struct.unpack("<4sI", header)
            if kind in (b"VP8X", b"EXIF", b"XMP ") and length <= MAX_BLOCK:
                found[kind] = file.read(length)
            else:
                file.seek(length, 1)
            file.seek(length & 1, 1)  # chunks are padded to an even length
    return Blocks(_tiff(found.get(b"EXIF", b"")), found.get(b"XMP ") or None, _canvas(found))


def _canvas(found: dict[bytes, bytes]) -> tuple[int, int] | None:
    header = found.get(b"VP8X", b"")
    if len(header) < 10:
        return None
    width = int.from_bytes(header[4:7], "little") + 1
    height = int.from_bytes(header[7:10], "little") + 1
    return width, height
