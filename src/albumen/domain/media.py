"""What a file is, judged from its first bytes, never from its name."""

from __future__ import annotations

from dataclasses import dataclass

from albumen.domain.errors import InvalidInput, UnsupportedMedia
from albumen.domain.limits import FILENAME_BYTES

SNIFF_BYTES = 64
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_RAW_BY_EXTENSION = {
    ".cr2": ("image/x-canon-cr2", "CR2"),
    ".nef": ("image/x-nikon-nef", "NEF"),
    ".dng": ("image/x-adobe-dng", "DNG"),
    ".arw": ("image/x-sony-arw", "ARW"),
    ".orf": ("image/x-olympus-orf", "ORF"),
    ".rw2": ("image/x-panasonic-rw2", "RW2"),
    ".pef": ("image/x-pentax-pef", "PEF"),
}


@dataclass(frozen=True, slots=True)
class MediaType:
    mime: str
    format: str

    @property
    def is_raw(self) -> bool:
        return self.format in {fmt for _, fmt in _RAW_BY_EXTENSION.values()}


JPEG = MediaType("image/jpeg", "JPEG")
PNG = MediaType("image/png", "PNG")
GIF = MediaType("image/gif", "GIF")
WEBP = MediaType("image/webp", "WEBP")
BMP = MediaType("image/bmp", "BMP")
TIFF = MediaType("image/tiff", "TIFF")
HEIC = MediaType("image/heic", "HEIC")
AVIF = MediaType("image/avif", "AVIF")
_BY_MIME = {
    media.mime: media
    for media in (
        *(JPEG, PNG, GIF, WEBP, BMP, TIFF, HEIC, AVIF),
        *(MediaType(*pair) for pair in _RAW_BY_EXTENSION.values()),
    )
}


_ALIASES = {"jpg": "jpeg", "tif": "tiff", "heif": "heic"}


def media_named(name: str) -> tuple[MediaType, ...]:
    """The media types a user means by ``jpeg``, ``heic``, ``nef`` or ``raw`` (none if unknown)."""
    wanted = _ALIASES.get(name.lower(), name.lower())
    if wanted == "raw":
        return tuple(media for media in _BY_MIME.values() if media.is_raw)
    return tuple(media for media in _BY_MIME.values() if media.format.lower() == wanted)


def media_type(mime: str) -> MediaType:
    """The media type a stored photo was sniffed as, from its recorded MIME type."""
    try:
        return _BY_MIME[mime]
    except KeyError:
        raise UnsupportedMedia(f"{mime} is not a type Albumen supports") from None


def sniff(head: bytes, filename: str = "") -> MediaType:
    """The media type of a file from its first bytes.

    The name only refines a TIFF container into the RAW format it carries (NEF and DNG are TIFF
    files inside); it never makes non-image bytes acceptable.
    """
    if not head:
        raise InvalidInput("the file is empty", code="empty_file")
    found = _sniff_magic(head) or _sniff_tiff(head, filename) or _sniff_isobmff(head)
    if found is None:
        raise UnsupportedMedia("the bytes are not an image format Albumen supports")
    return found


def _sniff_magic(head: bytes) -> MediaType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:2] == b"BM" and len(head) >= 26:
        return BMP
    return None


def _sniff_tiff(head: bytes, filename: str) -> MediaType | None:
    if head[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    if head[8:10] == b"CR":
        return MediaType(*_RAW_BY_EXTENSION[".cr2"])
    dot = filename.rfind(".")
    extension = filename[dot:].lower() if dot >= 0 else ""
    if extension in _RAW_BY_EXTENSION:
        return MediaType(*_RAW_BY_EXTENSION[extension])
    return TIFF


def _sniff_isobmff(head: bytes) -> MediaType | None:
    if head[4:8] != b"ftyp":
        return None
    box_end = min(int.from_bytes(head[:4], "big"), len(head))
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
    if head[8:12] in _AVIF_BRANDS or (brands & _AVIF_BRANDS and not brands & {b"heic"}):
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIC
    return None


def safe_filename(name: str | None) -> str:
    """The last path component of a client's file name, printable and at most 255 bytes.

    ``../../etc/passwd.jpg`` becomes ``passwd.jpg``: names are only ever shown, never used as
    paths, but nothing downstream should have to know that.
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    while len(base.encode()) > FILENAME_BYTES:
        base = base[:-1]
    return base or "upload"
