"""``LibraryTransfer``: one library moved into another world (``albumen migrate-to``).

First the blobs: every blob the database refers to is copied into the target store and its
hash checked there; one already there (an earlier run) is checked again rather than copied.
Then the rows, table by table, skipping those already copied. So a run cut short at any point
is resumed by running it again, and the target never refers to a blob it lacks. Last, every
table's rows are counted on both sides (the tables the target's triggers derive included) and
every album's photo count compared. The source should not change meanwhile: stop its server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from albumen.domain.durability import TransferReport
from albumen.domain.errors import BlobMissing, IntegrityError, NotFound
from albumen.ports import BlobReferences, BlobStore, LibraryCopy

log = logging.getLogger(__name__)
PAGE = 1000

Progress = Callable[[str, int], None]  # (what: "blobs" or a table, how many so far)


class LibraryTransfer:
    def __init__(
        self,
        rows: LibraryCopy,
        references: BlobReferences,
        source: BlobStore,
        target: BlobStore,
        threads: int = 4,
    ) -> None:
        self._rows = rows
        self._references = references
        self._source = source
        self._target = target
        self._threads = threads

    def run(self, progress: Progress | None = None) -> TransferReport:
        report = TransferReport()
        self._blobs(report, progress)
        for table in self._rows.tables():

            def counted(read: int, table: str = table) -> None:
                if progress is not None:
                    progress(table, read)

            report.rows[table] = self._rows.copy_table(table, counted)
        report.counts = self._rows.counts()
        report.album_counts_agree = self._rows.album_counts_agree()
        log.info(
            "library copied",
            extra={"blobs": report.blobs, "copied": report.copied, "ok": report.ok},
        )
        return report

    def _blobs(self, report: TransferReport, progress: Progress | None) -> None:
        after = ""
        with ThreadPoolExecutor(self._threads) as pool:
            while page := self._references.hashes(after, PAGE):
                for sha256, outcome in zip(page, pool.map(self._copy, page), strict=True):
                    if outcome is None:
                        report.bad.append(sha256)
                    elif outcome < 0:
                        report.present += 1
                    else:
                        report.copied += 1
                        report.bytes_copied += outcome
                report.blobs += len(page)
                after = page[-1]
                if progress is not None:
                    progress("blobs", report.blobs)

    def _copy(self, sha256: str) -> int | None:
        """Bytes copied; -1 when it was already there and whole; ``None`` when it could not
        be had whole (missing from the source, or its copy fails the hash). A store that
        cannot be reached (``Unavailable``) ends the run: run it again later."""
        if self._target.exists(sha256) and self._target.verify(sha256):
            return -1
        try:
            size = self._target.put_file(self._source.local_path(sha256), sha256, replace=True)
        except (BlobMissing, NotFound, IntegrityError, FileNotFoundError) as err:
            log.warning("blob not copied", extra={"sha256": sha256, "error": str(err)})
            return None
        return size if self._target.verify(sha256) else None
