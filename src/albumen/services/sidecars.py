"""``SidecarService``: metadata sidecars kept beside the blobs, and the database rebuilt from them.

Every change to a photo, album or user is noted in the database (by triggers, in the same
transaction as the change); ``flush`` writes the sidecars of what changed and clears the
notes it wrote. It runs every minute as a job, so a sidecar trails its record by about that.
If the database is lost, ``rebuild`` puts users, photos (dates, places, cameras, thumbnails,
tags, edits) and albums back from the sidecars into an empty one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from itertools import islice

from albumen.domain.durability import RebuildReport, SidecarKind
from albumen.domain.errors import Conflict
from albumen.ports import SidecarRepo, SidecarStore

log = logging.getLogger(__name__)
BATCH = 500
MAX_BATCHES = 200  # per run: a flood of changes is written over several runs


class SidecarService:
    def __init__(self, repo: SidecarRepo, store: SidecarStore) -> None:
        self._repo = repo
        self._store = store

    def flush(self) -> int:
        """Write the sidecars of records changed since theirs was written; how many."""
        written = 0
        for _ in range(MAX_BATCHES):
            pending = self._repo.pending(BATCH)
            for kind, record_id, _version in pending:
                document = self._repo.document(kind, record_id)
                if document is None:
                    self._store.delete(kind, record_id)
                else:
                    self._store.put(kind, record_id, document)
            self._repo.written(pending)
            written += len(pending)
            if len(pending) < BATCH:
                break
        if written:
            log.info("sidecars written", extra={"count": written})
        return written

    def rebuild(self, progress: Callable[[int], None] | None = None) -> RebuildReport:
        """Fill an empty database from the sidecars: users, then photos, then albums."""
        if not self._repo.is_empty():
            raise Conflict("the database is not empty; rebuild into a new one", code="not_empty")
        start = time.perf_counter()
        report = RebuildReport()
        report.users = self._repo.restore(SidecarKind.USER, self._documents(SidecarKind.USER))
        photos = self._documents(SidecarKind.PHOTO)
        while chunk := list(islice(photos, 1000)):
            report.photos += self._repo.restore(SidecarKind.PHOTO, chunk)
            if progress is not None:
                progress(len(chunk))
        report.albums = self._repo.restore(SidecarKind.ALBUM, self._documents(SidecarKind.ALBUM))
        report.seconds = time.perf_counter() - start
        return report

    def _documents(self, kind: SidecarKind) -> Iterator[bytes]:
        return (document for _record_id, document in self._store.scan(kind))
