"""``UploadService``: resumable uploads (tus 1.0: creation, core, termination, checksum).

Bytes are appended to a partial file in the blob store's staging area and fsynced before the
new offset is acknowledged. One request writes to an upload at a time: a PATCH claims it
(a lease in the database, renewed while the body streams, taken over at once when the process
holding it has ended) and another PATCH meanwhile answers 409 ``upload_busy``.

When the last byte arrives, a link to the partial file becomes a photo exactly as a multipart
upload does, and the upload's offset and photo are recorded in one step; the partial file goes
only then. A crash anywhere in between leaves the upload complete and unlinked with its bytes,
and the next look at it (a HEAD, a PATCH, the sweep) finishes it: the same photo, never a
second one, never lost.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

from albumen.domain.errors import Conflict, InvalidInput, NotFound, TooLarge
from albumen.domain.media import safe_filename
from albumen.domain.metadata import file_modified
from albumen.domain.photos import IngestResult
from albumen.ports import Clock, Processes, Upload, UploadParts, UploadRepo
from albumen.services.photos import PhotoService

CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")  # tus requires sha1
LEASE = timedelta(minutes=2)  # a writer's claim lapses this long after its last renewal
RENEW_SECONDS = 30.0


class ChecksumMismatch(InvalidInput):
    code = "checksum_mismatch"


class UploadService:
    def __init__(
        self,
        uploads: UploadRepo,
        parts: UploadParts,
        photos: PhotoService,
        clock: Clock,
        processes: Processes,
        max_bytes: int,
    ) -> None:
        self._uploads = uploads
        self._parts = parts
        self._photos = photos
        self._clock = clock
        self._processes = processes
        self.max_bytes = max_bytes

    def create(
        self, owner_id: str, length: int, filename: str, modified_at: str | None = None
    ) -> Upload:
        """A new upload; ``modified_at`` (ISO 8601: the file's date, from tus metadata) dates
        the photo if its contents do not."""
        if length < 0:
            raise InvalidInput("Upload-Length must not be negative", code="invalid_length")
        if length == 0:  # complete at once, and nothing to keep: refused as a multipart one is
            raise InvalidInput("the file is empty", code="empty_file")
        if length > self.max_bytes:
            raise TooLarge(f"the upload is larger than the limit of {self.max_bytes} bytes")
        upload = Upload(
            str(uuid.uuid4()),
            owner_id,
            length,
            0,
            safe_filename(filename),
            self._clock.now(),
            file_modified=file_modified(modified_at, self._clock.now()) if modified_at else None,
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

    def status(self, owner_id: str, upload_id: str) -> Upload:
        """The upload as a client resuming it should see it: one that has all its bytes but
        no photo (a crash came between them) is finished first, unless a request is on it."""
        upload = self.get(owner_id, upload_id)
        if upload.offset < upload.length or upload.photo_id is not None:
            return upload
        writer = self._writer()
        if not self._claim(upload, writer):
            return upload
        return self._finish(upload, writer)[0]

    async def append(
        self,
        owner_id: str,
        upload_id: str,
        offset: int,
        body: AsyncIterator[bytes],
        checksum: str | None = None,
    ) -> tuple[Upload, IngestResult | None]:
        """Append a PATCH body, and when it was the last, make the photo (the result). A
        dropped connection keeps what arrived (unless checksummed)."""
        upload = self.get(owner_id, upload_id)
        _check_offset(upload, offset)
        expected = _parse_checksum(checksum) if checksum else None
        writer = self._writer()
        if not self._claim(upload, writer):
            _check_offset(self.get(owner_id, upload_id), offset)  # it moved meanwhile
            raise Conflict(
                "another request is writing to this upload; resume when it ends",
                code="upload_busy",
            )
        async with self._renewed(upload.id, writer) as lost:
            new_offset = await self._write(upload, offset, body, expected, writer, lost)
            if new_offset < upload.length:
                self._uploads.release(upload.id, writer, new_offset)
                return replace(upload, offset=new_offset), None
            # every byte is here: recorded before the photo is made, so that no later
            # request can write into (or cut) the file the photo is made from
            if not self._uploads.advance(upload.id, writer, new_offset):
                raise Conflict("another request took this upload over", code="upload_busy")
            complete = replace(upload, offset=new_offset)
            return await asyncio.to_thread(self._finish, complete, writer)

    async def _write(
        self,
        upload: Upload,
        offset: int,
        body: AsyncIterator[bytes],
        expected: tuple[str, bytes] | None,
        writer: str,
        lost: asyncio.Event,
    ) -> int:
        """The body appended at ``offset``; the new offset. Whatever goes wrong, the claim is
        given back with the offset of what is kept, unless another writer holds it now."""
        part = self._parts.writer(upload.id, offset, expected[0] if expected else None)
        try:
            async for chunk in body:
                if lost.is_set():
                    raise _LeaseLost()
                if offset + part.written + len(chunk) > upload.length:
                    raise InvalidInput("more bytes than Upload-Length", code="length_exceeded")
                part.write(chunk)
            if expected is not None and part.digest() != expected[1]:
                raise ChecksumMismatch("the body does not match Upload-Checksum")
        except _LeaseLost:
            part.abandon()  # the file is the new writer's now: not a byte more from here
            raise Conflict(
                "this request held the upload too long; resume from its offset",
                code="upload_busy",
            ) from None
        except InvalidInput:
            part.rollback()
            self._uploads.release(upload.id, writer, offset)
            raise
        except BaseException:
            if expected is not None:  # a checksum covers the whole body: keep nothing
                part.rollback()
                self._uploads.release(upload.id, writer, offset)
                raise
            self._uploads.release(upload.id, writer, part.commit())
            raise
        return part.commit()

    def _finish(self, upload: Upload, writer: str) -> tuple[Upload, IngestResult]:
        """Make the photo of a complete upload, then record the offset and the photo in one
        step, then remove the partial file. Finishing twice finds the first photo."""
        try:
            staged = self._photos.stage_existing(self._parts.link(upload.id))
            result = self._photos.ingest(
                upload.owner_id, upload.filename, staged, upload.file_modified
            )
        except BaseException:
            self._uploads.release(upload.id, writer, upload.offset)
            raise
        if self._uploads.release(upload.id, writer, upload.offset, result.photo.id):
            self._parts.remove(upload.id)  # else another request took over, and removes it
        return replace(upload, photo_id=result.photo.id), result

    def finish_stranded(self) -> int:
        """Finish the complete uploads that have no photo and no writer (after a crash)."""
        finished = 0
        for upload in self._uploads.stranded():
            writer = self._writer()
            if self._claim(upload, writer):
                try:
                    self._finish(upload, writer)
                    finished += 1
                except InvalidInput:
                    pass  # not a photo: the client was told; the expiry sweep removes it
        return finished

    def _writer(self) -> str:
        return f"{secrets.token_hex(8)} {self._processes.me()}"

    def _claim(self, upload: Upload, writer: str) -> bool:
        now = self._clock.now()

        def lapsed(holder: str) -> bool:
            return self._processes.gone(holder.partition(" ")[2])

        return self._uploads.claim(upload.id, upload.offset, writer, now + LEASE, now, lapsed)

    @asynccontextmanager
    async def _renewed(self, upload_id: str, writer: str) -> AsyncIterator[asyncio.Event]:
        """The claim renewed while the block runs; the event is set if it was lost."""
        lost = asyncio.Event()

        async def renew() -> None:
            while True:
                await asyncio.sleep(RENEW_SECONDS)
                until = self._clock.now() + LEASE
                if not self._uploads.renew(upload_id, writer, until):
                    lost.set()
                    return

        task = asyncio.create_task(renew())
        try:
            yield lost
        finally:
            task.cancel()

    def terminate(self, owner_id: str, upload_id: str) -> None:
        upload = self.get(owner_id, upload_id)
        self._parts.remove(upload.id)
        self._uploads.delete(upload.id)


class _LeaseLost(Exception):
    """Another request took the upload over while this one was writing."""


def _check_offset(upload: Upload, offset: int) -> None:
    if upload.photo_id is not None:
        raise Conflict("the upload is complete", code="upload_complete")
    if offset != upload.offset:
        raise Conflict(
            f"Upload-Offset is {offset} but the upload is at {upload.offset}",
            code="offset_mismatch",
        )


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
