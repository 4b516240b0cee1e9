"""Photos as one zip, streamed as it is made: an album, a share or a selection in one download.

Nothing is copied to disk and memory stays bounded: each original is read from the store a
chunk at a time (checked against its hash on the way, as every whole read is) and written
through Python's ``zipfile`` into a sink that hands the bytes on at once. Originals are stored,
not compressed (photos and videos are compressed already), with their sizes known up front, so
an entry of 4 GiB or more, or an archive past 4 GiB or 65,535 entries, is written as Zip64.
Names are made unique within the archive (``IMG_1.jpg``, ``IMG_1 (2).jpg``); an original that
cannot be read now (in cold storage, or known to be damaged) is left out and named in
``not-included.txt`` at the end, with the reason.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from albumen.domain.errors import AlbumenError, InvalidInput, NotFound
from albumen.domain.photos import Photo
from albumen.services.photos import PhotoService

MISSING = "not-included.txt"
MAX_SELECTION = 10_000  # ids in one request
EARLIEST = datetime(1980, 1, 1)  # a zip entry cannot be older


class _Sink(io.RawIOBase):
    """A write-only, unseekable file whose bytes are taken out as they come (``zipfile``
    then writes each entry's sizes after its data, and needs only ``tell``)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]  # bytes in, as zipfile writes
        self._chunks.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


@dataclass(frozen=True, slots=True)
class Archive:
    filename: str  # what the download is called
    chunks: Iterator[bytes]


class ArchiveService:
    def __init__(self, photos: PhotoService) -> None:
        self._photos = photos

    def selection(self, user_id: str, photo_ids: Sequence[str]) -> Archive:
        """The photos the user chose (their own, or in albums shared with them), checked
        before anything is sent: one they may not see is ``NotFound``, as it is alone."""
        if not 0 < len(photo_ids) <= MAX_SELECTION:
            raise InvalidInput(
                f"choose 1 to {MAX_SELECTION} photos; download an album for more",
                code="invalid_selection",
            )
        chosen = [self._viewable(user_id, photo_id) for photo_id in dict.fromkeys(photo_ids)]
        return self.zip(f"{len(chosen)} photos", chosen)

    def _viewable(self, user_id: str, photo_id: str) -> Photo:
        try:
            uuid.UUID(photo_id)  # no photo has another id (nor a NUL): the database is not asked
        except ValueError:
            raise NotFound("no such photo", code="photo_not_found") from None
        return self._photos.viewable(user_id, photo_id)

    def zip(self, name: str, photos: Iterable[Photo]) -> Archive:
        """The photos' originals as ``name``.zip, made while it is read."""
        return Archive(f"{_safe(name) or 'photos'}.zip", self._stream(photos))

    def _stream(self, photos: Iterable[Photo]) -> Iterator[bytes]:
        sink = _Sink()
        names: set[str] = set()
        left_out: list[str] = []
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for photo in photos:
                try:
                    self._photos.check_intact(photo)
                    wait = self._photos.restore_wait(photo)
                except AlbumenError as err:
                    left_out.append(f"{photo.filename}: {err.message}")
                    continue
                if wait is not None:
                    left_out.append(
                        f"{photo.filename}: in cold storage; it is being restored, download "
                        f"again in {wait} seconds or more"
                    )
                    continue
                entry = zipfile.ZipInfo(_unique(photo.filename, names), _zip_time(photo))
                entry.compress_type = zipfile.ZIP_STORED
                entry.file_size = photo.size
                with archive.open(entry, "w", force_zip64=photo.size >= zipfile.ZIP64_LIMIT) as out:
                    for chunk in self._photos.original_range(photo, 0, photo.size):
                        out.write(chunk)
                        yield from _ready(sink)
                yield from _ready(sink)
            if left_out:
                note = "Not in this download:\n" + "".join(f"- {line}\n" for line in left_out)
                archive.writestr(_unique(MISSING, names), note)
        yield from _ready(sink)


def _ready(sink: _Sink) -> Iterator[bytes]:
    data = sink.take()
    if data:
        yield data


def _unique(filename: str, taken: set[str]) -> str:
    """``filename``, or ``stem (2).ext``, ``stem (3).ext``…: a name no other entry has
    (compared without case, as Windows and macOS unpack them)."""
    path = PurePosixPath(filename.replace("\\", "/")).name or "photo"
    stem, suffix = PurePosixPath(path).stem, PurePosixPath(path).suffix
    candidate, n = path, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    taken.add(candidate.casefold())
    return candidate


def _zip_time(photo: Photo) -> tuple[int, int, int, int, int, int]:
    """When the photo was taken (local time), else uploaded: what an unzipper shows."""
    taken = photo.metadata.taken_at if photo.metadata else None
    when = max(taken.local if taken else photo.created_at, EARLIEST)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def _safe(name: str) -> str:
    """A download's name without path separators or control characters."""
    cleaned = "".join(c for c in name if c.isprintable() and c not in '/\\:*?"<>|')
    return cleaned.strip().strip(".")[:100]
