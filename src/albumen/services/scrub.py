"""``ScrubService``: re-hash every blob and hold the database and the stores against each other.

Three sorted streams are merged by hash: what the database refers to, what the primary store
holds, and what the mirror holds (when there is one). Memory stays constant however large the
library: nothing is collected but the findings. Each referenced blob is hashed in every store
that should have it, on a few threads (SHA-256 releases the GIL).

Repairs, with ``repair=True``:
- a copy that is missing or corrupt is rewritten from the other store's good copy, verified;
- a thumbnail or preview lost everywhere loses its record, so it is made again when asked for;
- a blob nothing refers to, older than the sweep's grace period, is deleted from both stores.
An original lost in every store cannot be repaired here: restore it from a backup.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import groupby

from albumen.domain.durability import BlobFinding, Problem, ScrubReport
from albumen.domain.errors import BlobMissing, IntegrityError
from albumen.ports import BlobReferences, BlobStore, Clock, DamagedBlobs, StoredBlob

log = logging.getLogger(__name__)
PAGE = 5000
Progress = Callable[[int], None]  # bytes hashed since the last call


class ScrubService:
    def __init__(
        self,
        references: BlobReferences,
        primary: BlobStore,
        mirror: BlobStore | None,
        damaged: DamagedBlobs,
        clock: Clock,
        grace: timedelta,
        threads: int = 4,
    ) -> None:
        self._refs = references
        self._primary = primary
        self._mirror = mirror
        self._damaged = damaged
        self._clock = clock
        self._grace = grace
        self._threads = threads

    def scrub(
        self, repair: bool = False, rehash: bool = True, progress: Progress | None = None
    ) -> ScrubReport:
        """Check every blob; ``rehash=False`` checks only that each is there (and its size)."""
        report = ScrubReport(started_at=self._clock.now())
        cutoff = report.started_at - self._grace
        start = time.perf_counter()
        in_flight: deque[Future[tuple[int, int, list[BlobFinding]]]] = deque()
        damaged = self._damaged.all()
        with ThreadPoolExecutor(self._threads, thread_name_prefix="scrub") as pool:
            for sha256, referenced, primary, mirror in self._merged():
                if referenced:
                    report.referenced += 1
                    work = (sha256, primary, mirror, repair, rehash, sha256 in damaged)
                    in_flight.append(pool.submit(self._check, *work))
                elif _older(primary, cutoff) or _older(mirror, cutoff):
                    store = "primary" if primary is not None else "mirror"
                    report.findings.append(self._unreferenced(sha256, store, cutoff, repair))
                while len(in_flight) > self._threads * 4 or (in_flight and in_flight[0].done()):
                    self._collect(in_flight.popleft(), report, progress)
            while in_flight:
                self._collect(in_flight.popleft(), report, progress)
        report.seconds = time.perf_counter() - start
        log.info(
            "scrub ended",
            extra={
                "blobs": report.hashed_blobs,
                "bytes": report.hashed_bytes,
                "findings": len(report.findings),
                "unrepaired": len(report.unrepaired),
            },
        )
        return report

    def row_counts(self) -> dict[str, int]:
        """Rows per table of the database (to compare with a backup's)."""
        return self._refs.row_counts()

    def _collect(
        self,
        future: Future[tuple[int, int, list[BlobFinding]]],
        report: ScrubReport,
        progress: Progress | None,
    ) -> None:
        blobs, hashed, findings = future.result()
        report.hashed_blobs += blobs
        report.hashed_bytes += hashed
        report.findings += findings
        if progress is not None:
            progress(hashed)

    def _merged(self) -> Iterator[tuple[str, bool, StoredBlob | None, StoredBlob | None]]:
        """(hash, referenced, primary copy, mirror copy) for every hash anyone knows of."""
        streams = [
            ((sha, 0, None) for sha in referenced_hashes(self._refs)),
            ((blob.sha256, 1, blob) for blob in self._primary.scan()),
        ]
        if self._mirror is not None:
            streams.append((blob.sha256, 2, blob) for blob in self._mirror.scan())
        for sha256, group in groupby(heapq.merge(*streams), key=lambda item: item[0]):
            found: dict[int, StoredBlob | None] = {source: blob for _, source, blob in group}
            yield sha256, 0 in found, found.get(1), found.get(2)

    def _check(
        self,
        sha256: str,
        primary: StoredBlob | None,
        mirror: StoredBlob | None,
        repair: bool,
        rehash: bool,
        was_damaged: bool,
    ) -> tuple[int, int, list[BlobFinding]]:
        """Hash each copy; with ``repair``, mend a bad one from the good one. An original whose
        primary copy stays corrupt is noted as damaged (never served as good); one noted
        before whose primary copy is whole again is served again."""
        stores = {"primary": (self._primary, primary)}
        if self._mirror is not None:
            stores["mirror"] = (self._mirror, mirror)
        blobs = hashed = 0
        bad: dict[str, Problem] = {}
        for name, (store, listed) in stores.items():
            if listed is None:
                bad[name] = Problem.MISSING
                continue
            if not rehash:
                continue
            try:
                actual = store.hash_of(sha256)
            except BlobMissing:  # gone since it was listed
                bad[name] = Problem.MISSING
                continue
            blobs += 1
            hashed += listed.size
            if actual != sha256:
                bad[name] = Problem.CORRUPT
        if not bad:
            self._note(sha256, bad, [], was_damaged and rehash)
            return blobs, hashed, []
        holders = self._refs.holders(sha256)  # before a repair may drop some
        findings = [BlobFinding(sha256, name, problem, holders) for name, problem in bad.items()]
        if repair:
            good = [stores[name][0] for name in stores if name not in bad]
            for finding in findings:
                finding.repair = self._mend(finding, stores[finding.store][0], good)
        self._note(sha256, bad, findings, was_damaged and rehash)
        return blobs, hashed, findings

    def _note(
        self, sha256: str, bad: dict[str, Problem], findings: list[BlobFinding], was: bool
    ) -> None:
        """Keep the damage notes true: an original whose primary copy stays corrupt is noted
        (``was``: it had been, and is checked again); one whose copy is whole again is not."""
        primary_whole = "primary" not in bad or any(
            f.store == "primary" and f.repair is not None for f in findings
        )
        original = any(not holder.derived for f in findings for holder in f.holders)
        if was and primary_whole:
            self._damaged.clear(sha256)
        elif bad.get("primary") is Problem.CORRUPT and not primary_whole and original:
            self._damaged.mark(sha256, "scrub", self._clock.now())

    def _mend(self, finding: BlobFinding, store: BlobStore, good: list[BlobStore]) -> str | None:
        if good:
            try:
                store.put_file(good[0].local_path(finding.sha256), finding.sha256, replace=True)
            except (BlobMissing, IntegrityError) as err:  # the good copy went bad meanwhile
                failed = {"sha256": finding.sha256, "error": str(err)}
                log.error("scrub repair failed", extra=failed)
                return None
            return "copied from the other store"
        holders = finding.holders
        if holders and all(holder.derived and holder.role != "face crop" for holder in holders):
            self._refs.forget_derivatives(finding.sha256)
            store.delete(finding.sha256)  # a bad copy left there would be taken for the new one
            return "thumbnail record dropped; it is made again from the original when asked for"
        return None

    def _unreferenced(self, sha256: str, store: str, cutoff: datetime, repair: bool) -> BlobFinding:
        finding = BlobFinding(sha256, store, Problem.UNREFERENCED)
        if repair:
            copies = [self._primary] + ([self._mirror] if self._mirror is not None else [])
            for copy in copies:
                copy.delete(sha256, older_than=cutoff)
            finding.repair = "deleted"
        return finding


def referenced_hashes(references: BlobReferences) -> Iterator[str]:
    """Every hash the database refers to, in order, a page at a time."""
    after = ""
    while page := references.hashes(after, PAGE):
        yield from page
        after = page[-1]


def _older(blob: StoredBlob | None, cutoff: datetime) -> bool:
    return blob is not None and blob.modified < cutoff
