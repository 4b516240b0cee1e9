"""``UploadService``: resumable uploads (tus 1.0: creation, core, termination, checksum).

Bytes are appended to a partial file in the blob store's staging area and fsynced before the
new offset is acknowledged. When the last byte arrives, the file becomes a photo exactly as a
multipart upload does.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

from albumen.domain.errors import Conflict, InvalidInput, NotFound, TooLarge
from albumen.domain.media import safe_filename
from albumen.domain.photos import IngestResult
from albumen.ports import Clock, Upload, UploadParts, UploadRepo
from albumen.services.photos import PhotoService

CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")  # tus requires sha1


class ChecksumMismatch(InvalidInput):
    code = "checksum_mismatch"


class UploadService:
    def __init__(
        self,
        uploads: UploadRepo,
        parts: UploadParts,
        photos: PhotoService,
        clock: Clock,
        max_bytes: int,
    ) -> None:
        self._uploads = uploads
        self._parts = parts
        self._photos = photos
        self._clock = clock
        self.max_bytes = max_bytes

    def create(self, owner_id: str, length: int, filename: str) -> Upload:
        if length < 0:
            raise InvalidInput("Upload-Length must not be negative", code="invalid_length")
        if length == 0:  # complete at once, and nothing to keep: refused as a multipart one is
            raise InvalidInput("the file is empty", code="empty_file")
        if length > self.max_bytes:
            raise TooLarge(f"the upload is larger than the limit of {self.max_bytes} bytes")
        upload = Upload(
            str(uuid.uuid4()), owner_id, length, 0, safe_filename(filename), self._clock.now()
        )
        self._parts.create(upload.id)
        self._uploads.add(upload)
        return upload

    def get(self, owner_id: str, upload_id: str) -> Upload:
        try:
            upload = self._uploads.get(str(uuid.UUID(upload_id)), owner_id)
        except ValueError:
            upload = None
        if upload is None:
            raise NotFound("no such upload", code="upload_not_found")
        return upload

    async def append(
        self,
        owner_id: str,
        upload_id: str,
        offset: int,
        body: AsyncIterator[bytes],
        checksum: str | None = None,
    ) -> Upload:
        """Append a PATCH body. A dropped connection keeps what arrived (unless checksummed)."""
        upload = self.get(owner_id, upload_id)
        if upload.photo_id is not None:
            raise Conflict("the upload is complete", code="upload_complete")
        if offset != upload.offset:
            raise Conflict(
                f"Upload-Offset is {offset} but the upload is at {upload.offset}",
                code="offset_mismatch",
            )
        expected = _parse_checksum(checksum) if checksum else None
        writer = self._parts.writer(upload.id, offset, expected[0] if expected else None)
        try:
            async for chunk in body:
                if offset + writer.written + len(chunk) > upload.length:
                    raise InvalidInput("more bytes than Upload-Length", code="length_exceeded")
                writer.write(chunk)
        except InvalidInput:
            writer.rollback()
            raise
        except Exception:
            if expected is not None:  # a checksum covers the whole body: keep nothing
                writer.rollback()
                raise
            self._uploads.set_offset(upload.id, writer.commit())
            raise
        if expected is not None and writer.digest() != expected[1]:
            writer.rollback()
            raise ChecksumMismatch("the body does not match Upload-Checksum")
        new_offset = writer.commit()
        self._uploads.set_offset(upload.id, new_offset)
        return replace(upload, offset=new_offset)

    def finish(self, upload: Upload) -> IngestResult:
        """Turn a complete upload into a photo. The record stays (pointing at the photo) so a
        client that asks again learns the upload is complete; the expiry sweep removes it."""
        staged = self._photos.stage_existing(self._parts.path(upload.id))
        result = self._photos.ingest(upload.owner_id, upload.filename, staged)
        self._uploads.set_photo(upload.id, result.photo.id)
        return result

    def terminate(self, owner_id: str, upload_id: str) -> None:
        upload = self.get(owner_id, upload_id)
        self._parts.remove(upload.id)
        self._uploads.delete(upload.id)


def _parse_checksum(header: str) -> tuple[str, bytes]:
    algorithm, _, encoded = header.strip().partition(" ")
    if not encoded.strip():
        raise InvalidInput("Upload-Checksum is 'algorithm base64-digest'", code="bad_checksum")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise InvalidInput(f"unsupported checksum algorithm {algorithm!r}", code="bad_checksum")
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except binascii.Error as err:
        raise InvalidInput("Upload-Checksum is not base64", code="bad_checksum") from err
