"""Streaming ``multipart/form-data``: the ``file`` part goes straight to a staging writer.

Memory stays flat whatever the upload's size: each chunk the client sends is parsed, hashed and
written before the next one is read. Of the other fields only ``modified_at`` (the file's date)
is kept, and only its first 100 bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from albumen.domain.errors import InvalidInput
from albumen.ports import StagingWriter

FILE_FIELD = b"file"
MODIFIED_FIELD = b"modified_at"
MODIFIED_BYTES = 100


@dataclass(frozen=True, slots=True)
class UploadForm:
    filename: str | None  # the client's name for the file
    modified_at: str | None  # the ``modified_at`` field: when the file was last modified


class _FilePart:
    """Parser callbacks that route the bytes of the ``file`` field to a writer."""

    def __init__(self, writer: StagingWriter) -> None:
        self.writer = writer
        self.filename: str | None = None
        self.found = False
        self.modified: bytearray | None = None
        self._in_file = False
        self._in_modified = False
        self._header_field = b""
        self._header_value = b""
        self._disposition = b""

    def on_part_begin(self) -> None:
        self._in_file = self._in_modified = False
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_field.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if options.get(b"name") == FILE_FIELD and not self.found:
            self._in_file = self.found = True
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
        elif options.get(b"name") == MODIFIED_FIELD and self.modified is None:
            self._in_modified = True
            self.modified = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.writer.write(data[start:end])
        elif self._in_modified and self.modified is not None:
            room = MODIFIED_BYTES - len(self.modified)
            self.modified += data[start : min(end, start + room)]


async def stream_file_field(
    content_type: str, body: AsyncIterator[bytes], writer: StagingWriter
) -> UploadForm:
    """Feed the body through the parser; the client's file name for ``file`` and the date
    it sent."""
    mime, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise InvalidInput("send the photo as multipart/form-data", code="not_multipart")
    part = _FilePart(writer)
    callbacks = {name: getattr(part, name) for name in dir(part) if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]  # a dict of the callbacks
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as err:
        raise InvalidInput(f"the form could not be read: {err}", code="bad_multipart") from err
    if not part.found:
        raise InvalidInput("the form has no 'file' field", code="missing_file")
    modified = None if part.modified is None else part.modified.decode("utf-8", "replace")
    return UploadForm(part.filename, modified)
