"""``VipsThumbnailer``: thumbnails and previews with libvips.

libvips shrinks JPEGs while decoding them and streams the rest, so a 12 MP photo costs a
fraction of a full decode. What the ``pyvips-binary`` build cannot decode (HEVC-coded HEIC, BMP,
RAW) is decoded by pillow-heif, Pillow or LibRaw and handed to libvips as pixels.
"""

from __future__ import annotations

import base64
import time
import warnings
from pathlib import Path

import pillow_heif
import pyvips
import thumbhash
from PIL import Image, ImageOps, UnidentifiedImageError

from albumen.adapters import metrics
from albumen.domain.errors import CorruptMedia, TooLarge
from albumen.domain.media import MediaType
from albumen.domain.photos import Rendition, ThumbFormat, ThumbSize

WEBP_QUALITY = 80
WEBP_EFFORT = 2  # effort 4 (the default) doubles the encode time for ~5% smaller files
JPEG_QUALITY = 85
PLACEHOLDER_EDGE = 32

pillow_heif.register_heif_opener()


class VipsThumbnailer:
    def __init__(self, max_pixels: int) -> None:
        self._max_pixels = max_pixels
        Image.MAX_IMAGE_PIXELS = max_pixels

    def render(
        self, path: Path, media: MediaType, sizes: list[ThumbSize], fmt: ThumbFormat
    ) -> list[Rendition]:
        start = time.perf_counter()
        largest = max(sizes, key=lambda size: size.box[0])
        base = self._decode(path, media, largest.box[0])
        renditions = []
        for size in sorted(sizes, key=lambda s: -s.box[0]):
            image = base if size is largest else base.thumbnail_image(size.box[0], size="down")
            renditions.append(_encode(image, size, fmt))
        metrics.thumbnail_duration.labels(media.format).observe(time.perf_counter() - start)
        return renditions

    def placeholder(self, rendition: Rendition) -> str:
        image = pyvips.Image.thumbnail_buffer(rendition.data, PLACEHOLDER_EDGE)
        image = _rgba(image)
        rgba = list(bytes(image.write_to_memory()))
        hashed = thumbhash.rgba_to_thumb_hash(image.width, image.height, rgba)
        return base64.b64encode(bytes(hashed)).decode("ascii")

    def _decode(self, path: Path, media: MediaType, edge: int) -> pyvips.Image:
        if media.is_raw:
            return _thumbnail_pixels(_raw_pixels(path), edge)
        if media.format in ("HEIC", "AVIF"):
            _check_boxes_complete(path)
        try:
            header = pyvips.Image.new_from_file(str(path))
            self._check_pixels(header.width, header.height)
            image = pyvips.Image.thumbnail(
                str(path), edge, height=edge, size="down", fail_on="error"
            )
            return _srgb(image).copy_memory()  # decode now, so a broken file fails here
        except pyvips.Error:
            return _thumbnail_pixels(self._pillow_pixels(path), edge)

    def _check_pixels(self, width: int, height: int) -> None:
        if width * height > self._max_pixels:
            raise TooLarge(f"{width}x{height} pixels is more than this server decodes")

    def _pillow_pixels(self, path: Path) -> pyvips.Image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as opened:
                    self._check_pixels(*opened.size)
                    image = ImageOps.exif_transpose(opened)
                    image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise TooLarge(str(err)) from err
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            raise CorruptMedia(f"the image cannot be decoded: {err}") from err
        return _from_pillow(image)


def _check_boxes_complete(path: Path) -> None:
    """A HEIF/AVIF file cut short: libheif decodes what is there and greys out the rest
    without an error, so the top-level boxes are checked against the file's length."""
    length = path.stat().st_size
    with path.open("rb") as file:
        offset = 0
        while offset < length:
            file.seek(offset)
            header = file.read(16)
            if len(header) < 8:
                raise CorruptMedia("the file ends inside a box header (truncated)")
            size = int.from_bytes(header[:4], "big")
            if size == 1 and len(header) == 16:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:  # the last box runs to the end of the file
                return
            if size < 8 or offset + size > length:
                kind = header[4:8].decode("latin-1")
                raise CorruptMedia(f"the file ends inside its '{kind}' box (truncated)")
            offset += size


def _from_pillow(image: Image.Image) -> pyvips.Image:
    profile = image.info.get("icc_profile")
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    bands = len(image.getbands())
    vips = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, bands, "uchar")
    if profile:
        vips = vips.copy()
        vips.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile)
    return vips


def _raw_pixels(path: Path) -> pyvips.Image:
    import rawpy  # loaded here: LibRaw costs 0.2 s to load and only RAW files need it

    try:
        with rawpy.imread(str(path)) as raw:
            rgb = raw.postprocess(use_camera_wb=True, half_size=True, output_bps=8)
    except (rawpy.LibRawError, OSError, ValueError) as err:
        raise CorruptMedia(f"LibRaw cannot decode this RAW file: {err}") from err
    height, width, bands = rgb.shape
    return pyvips.Image.new_from_memory(rgb.tobytes(), width, height, bands, "uchar")


def _thumbnail_pixels(image: pyvips.Image, edge: int) -> pyvips.Image:
    try:
        return _srgb(image.thumbnail_image(edge, height=edge, size="down")).copy_memory()
    except pyvips.Error as err:
        raise CorruptMedia(f"the image cannot be resized: {err}") from err


def _srgb(image: pyvips.Image) -> pyvips.Image:
    """Pixels in sRGB. The embedded profile is applied after shrinking, where it is cheap:
    asking ``thumbnail`` for ``output_profile="srgb"`` converted every image, profile or not,
    and cost more than the decode (70 ms of ~200 on a 12 MP JPEG)."""
    if image.get_typeof("icc-profile-data"):
        return image.icc_transform("srgb", embedded=True)
    return image


def _encode(image: pyvips.Image, size: ThumbSize, fmt: ThumbFormat) -> Rendition:
    image = _flatten_for(image, fmt)
    try:
        if fmt is ThumbFormat.WEBP:
            data = image.webpsave_buffer(Q=WEBP_QUALITY, effort=WEBP_EFFORT, keep="none")
        else:
            data = image.jpegsave_buffer(Q=JPEG_QUALITY, keep="none", optimize_coding=True)
    except pyvips.Error as err:
        raise CorruptMedia(f"the image cannot be encoded: {err}") from err
    return Rendition(size, fmt, data, image.width, image.height)


def _flatten_for(image: pyvips.Image, fmt: ThumbFormat) -> pyvips.Image:
    if image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    if fmt is ThumbFormat.JPEG and image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    return image


def _rgba(image: pyvips.Image) -> pyvips.Image:
    if image.bands < 3:
        image = image.colourspace("srgb")
    if not image.hasalpha():
        image = image.bandjoin(255)
    return image.cast("uchar")
