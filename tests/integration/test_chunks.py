"""Metadata that PNG and WebP files keep in their chunks, read as ExifTool reads it (#21 item 8).

Each file here is built the way the writing tool builds it: ImageMagick's ``Raw profile type``
text (hex digits after a name and a length), an ``eXIf`` chunk after the pixels, a WebP whose
bitstream is damaged but whose ``EXIF`` chunk is whole. ExifTool 12.57 reads the camera and the
date of every one of them; the reader did not.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from albumen.adapters.chunks import MAX_BLOCK, png_blocks, webp_blocks
from albumen.adapters.exif import PillowMetadataReader
from albumen.adapters.queue import HueyJobQueue
from albumen.domain.media import PNG, WEBP
from albumen.domain.metadata import PhotoMetadata
from tests.conftest import upload

TAKEN = datetime(2019, 7, 4, 12, 34, 56)


def exif_block() -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 5D"
    exif.get_ifd(0x8769)[0x9003] = TAKEN.strftime("%Y:%m:%d %H:%M:%S")
    return exif.tobytes()  # with the "Exif\0\0" header of a JPEG's APP1


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def raw_profile(name: str, block: bytes) -> bytes:
    """ImageMagick's text form of a profile: name, length, then hex digits 72 to a line."""
    digits = block.hex()
    lines = "\n".join(digits[i : i + 72] for i in range(0, len(digits), 72))
    return f"\n{name}\n{len(block):8d}\n{lines}\n".encode()


def png_with(*, before: bytes = b"", after: bytes = b"", damaged: bool = False) -> bytes:
    """A 64x48 PNG with ``before`` between IHDR and IDAT and ``after`` past the pixels."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "PNG")
    data = out.getvalue()
    ihdr_end = 8 + 25
    idat_end = len(data) - 12  # IEND is the last 12 bytes
    idat = data[ihdr_end:idat_end]
    if damaged:  # the pixels' zlib stream is garbage; its CRC is made to match
        length = struct.unpack(">I", idat[:4])[0]
        idat = png_chunk(b"IDAT", bytes(b ^ 0x5A for b in idat[8 : 8 + length]))
    return data[:ihdr_end] + before + idat + after + data[idat_end:]


def _read(path: Path, data: bytes, media: object = PNG) -> PhotoMetadata:
    path.write_bytes(data)
    return PillowMetadataReader(100_000_000).read(path, media)  # type: ignore[arg-type]  # PNG or WEBP


def ztxt(keyword: str, text: bytes) -> bytes:
    return png_chunk(b"zTXt", keyword.encode() + b"\x00\x00" + zlib.compress(text))


@pytest.mark.parametrize(
    ("keyword", "header"),
    [
        ("Raw profile type APP1", True),
        ("Raw profile type exif", True),
        ("Raw profile type exif", False),
    ],
)
def test_imagemagick_raw_profiles_give_the_camera_and_date(
    tmp_path: Path, keyword: str, header: bool
) -> None:
    block = exif_block() if header else exif_block().removeprefix(b"Exif\x00\x00")
    found = _read(tmp_path / "p.png", png_with(before=ztxt(keyword, raw_profile("exif", block))))
    assert found.camera.make == "Canon"
    assert found.camera.model == "Canon EOS 5D"
    assert found.taken_at is not None
    assert found.taken_at.local == TAKEN


def test_a_raw_profile_after_pixels_that_do_not_decode_is_still_read(tmp_path: Path) -> None:
    profile = ztxt("Raw profile type exif", raw_profile("exif", exif_block()))
    found = _read(tmp_path / "p.png", png_with(after=profile, damaged=True))
    assert (found.width, found.height) == (64, 48)
    assert found.taken_at is not None
    assert found.taken_at.local == TAKEN


def test_an_exif_chunk_after_the_pixels_and_xmp_in_compressed_itxt(tmp_path: Path) -> None:
    exif = png_chunk(b"eXIf", exif_block().removeprefix(b"Exif\x00\x00"))
    assert _read(tmp_path / "e.png", png_with(after=exif)).camera.make == "Canon"
    xmp = b'<x:xmpmeta><rdf:Description exif:DateTimeOriginal="2001-02-03T04:05:06"/></x:xmpmeta>'
    itxt = png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(xmp))
    found = _read(tmp_path / "x.png", png_with(after=itxt))
    assert found.taken_at is not None
    assert found.taken_at.local == datetime(2001, 2, 3, 4, 5, 6)


def test_a_compressed_chunk_bomb_is_read_no_further_than_the_limit(tmp_path: Path) -> None:
    bomb = ztxt("Raw profile type exif", b"\n" + b"0" * (64 * MAX_BLOCK))
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with(before=bomb))
    assert png_blocks(path).exif is None
    assert _read(path, path.read_bytes()).taken_at is None


def damaged_webp() -> bytes:
    """A WebP with EXIF whose VP8 bitstream is garbage (every byte of it flipped)."""
    out = io.BytesIO()
    image = Image.linear_gradient("L").convert("RGB").resize((320, 200))
    image.save(out, "WEBP", exif=exif_block(), quality=80)
    data = bytearray(out.getvalue())
    start = data.find(b"VP8 ") + 8
    length = struct.unpack("<I", data[start - 4 : start])[0]
    data[start : start + length] = bytes(b ^ 0x5A for b in data[start : start + length])
    return bytes(data)


def test_a_webp_that_does_not_decode_keeps_its_size_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "bad.webp"
    path.write_bytes(damaged_webp())
    with pytest.raises(OSError, match="decoder"):  # the premise: Pillow cannot open it
        Image.open(path)
    found = _read(path, path.read_bytes(), WEBP)
    assert (found.width, found.height) == (320, 200)
    assert found.camera.make == "Canon"
    assert found.taken_at is not None
    assert found.taken_at.local == TAKEN
    assert webp_blocks(path).size == (320, 200)


def test_a_damaged_webp_fails_but_sits_at_its_date_in_the_library(
    client: TestClient, auth: dict[str, str], queue: HueyJobQueue
) -> None:
    photo_id = upload(client, auth, damaged_webp(), "bad.webp").json()["id"]
    queue.run_pending()
    photo = client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()
    assert photo["status"] == "failed"  # its pixels cannot be shown
    assert photo["taken_at"].startswith("2019-07-04T12:34:56")
    assert photo["camera"]["model"] == "Canon EOS 5D"
