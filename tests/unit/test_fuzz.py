"""Fuzzing the parsers with hypothesis (#21, "keep it closed"): the search query language, the
multipart form, the metadata readers (EXIF, XMP, IPTC, PNG and WebP chunks) on mutated real
files, and tus's headers. Whatever the input, each answers with its value or a clear
``AlbumenError`` (a 4xx at the API), never another exception.

A bounded run is part of ``make check`` (``ALBUMEN_FUZZ_EXAMPLES``, 150 by default,
derandomized so that CI is repeatable); ``make fuzz`` runs 5,000 an entry, new inputs each time.
The seeds are files made here, and the real camera files of ``../shared/photos`` when present.
Google Takeout's JSON reader does not exist yet (#18): its fuzz target comes with it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from albumen.adapters.chunks import png_blocks, webp_blocks
from albumen.adapters.exif import PillowMetadataReader
from albumen.api.multipart import stream_file_field
from albumen.domain.errors import AlbumenError
from albumen.domain.media import sniff
from albumen.domain.search import parse_query
from albumen.ports import StagedFile
from tests.conftest import SHARED_PHOTOS, make_jpeg

EXAMPLES = int(os.environ.get("ALBUMEN_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("ALBUMEN_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
QUERY_WORDS = st.sampled_from(
    ["after:", "before:", "near:", "in:", "camera:", "tag:", "is:", "-", '"', "(", ")", ":", ","]
)


def _seeds() -> list[bytes]:
    """Files to mutate: made here, and up to 12 real ones (their first 64 KB) when present."""
    from tests.integration.test_chunks import damaged_webp, exif_block, png_with, raw_profile, ztxt

    made = [
        make_jpeg(64, 48, orientation=6, exif={0x010F: "Canon"}),
        png_with(before=ztxt("Raw profile type exif", raw_profile("exif", exif_block()))),
        damaged_webp(),
    ]
    real = sorted(SHARED_PHOTOS.glob("*.*")) if SHARED_PHOTOS.is_dir() else []
    wanted = [p for p in real if p.suffix.lower() in {".jpg", ".png", ".heic", ".tiff", ".webp"}]
    return made + [data for p in wanted[:12] if (data := p.read_bytes()[:65536])]


SEEDS = _seeds()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed with a few bytes flipped, a span cut out or repeated, or cut short."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 4096)))
        data[start:end] = data[start:end] * draw(st.integers(0, 3))
    return bytes(data[: draw(st.integers(1, max(1, len(data))))]) or b"\x00"


@FUZZ
@given(st.one_of(st.text(max_size=300), st.lists(QUERY_WORDS | st.text(max_size=8)).map("".join)))
def test_any_search_query_parses_or_says_what_is_wrong(query: str) -> None:
    with contextlib.suppress(AlbumenError):
        parse_query(query)


@FUZZ
@given(mutated())
def test_any_damaged_image_gives_its_metadata_or_a_clear_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed"
        path.write_bytes(data)
        try:
            media = sniff(data[:64])
            PillowMetadataReader(50_000_000).read(path, media)
        except AlbumenError:
            pass
        png_blocks(path)  # the chunk readers never fail: they find what is whole
        webp_blocks(path)


class _Discard:
    def write(self, chunk: bytes) -> None:
        pass

    def finish(self) -> StagedFile:
        raise NotImplementedError

    def abort(self) -> None:
        pass


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 997):
        yield body[start : start + 997]


FORM = (
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
    b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--b--\r\n"
)


@FUZZ
@given(
    st.sampled_from(["multipart/form-data; boundary=b", "multipart/form-data", "text/plain"])
    | st.text(st.characters(max_codepoint=255), max_size=60),  # as a server decodes a header
    st.binary(max_size=2000) | st.builds(lambda cut: FORM[:cut], st.integers(0, len(FORM))),
)
def test_any_form_is_read_or_refused_clearly(content_type: str, body: bytes) -> None:
    # in a thread of its own: the browser tests' event loop may be running in this one
    with ThreadPoolExecutor(1) as thread, contextlib.suppress(AlbumenError):
        form = stream_file_field(content_type, _chunks(body), _Discard())
        thread.submit(asyncio.run, form).result()


HEADER = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@FUZZ
@given(
    length=HEADER | st.integers(-5, 10**12).map(str),
    metadata=HEADER
    | st.lists(st.tuples(HEADER, st.binary(max_size=40))).map(
        lambda pairs: ",".join(f"{k} {base64.b64encode(v).decode()}" for k, v in pairs)
    ),
    checksum=HEADER | st.sampled_from(["sha1", "sha1 ", "md5 AAAA", "sha256 =="]),
)
def test_any_tus_headers_are_taken_or_refused_clearly(
    client: TestClient, auth: dict[str, str], length: str, metadata: str, checksum: str
) -> None:
    tus = {"Tus-Resumable": "1.0.0"}
    made = client.post(
        "/api/v1/uploads",
        headers=auth | tus | {"Upload-Length": length.strip(), "Upload-Metadata": metadata},
    )
    assert made.status_code in (201, 400, 413), made.text
    if made.status_code != 201:
        return
    patched = client.patch(
        made.headers["location"],
        headers=auth
        | tus
        | {
            "Upload-Offset": "0",
            "Upload-Checksum": checksum,
            "Content-Type": "application/offset+octet-stream",
        },
        content=b"x",
    )
    assert patched.status_code < 500, patched.text
