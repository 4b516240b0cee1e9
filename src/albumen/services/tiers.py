"""``TierService``: originals moved between hot, warm and cold storage, safely, by a policy.

A move is: note the destination in the database, copy the blob there (hashed on the way),
hash the copy again where it now lies, delete the other copies, record the new tier. A
crash anywhere leaves the blob readable (reads look in every tier) and the move noted, so the
next run finishes it; no step deletes a copy before a verified one exists elsewhere.

The lifecycle (an hourly job, or ``albumen tiers move``) moves originals unread for
``warm_after`` to warm, for ``cold_after`` to cold, and warm ones read again back to hot.
Reading a cold original asks for a restore: a job moves it back to hot.
"""

from __future__ import annotations

import logging
import threading

from albumen.domain.errors import Archived, BlobMissing, IntegrityError, Unavailable
from albumen.domain.jobs import JobName
from albumen.domain.photos import Photo
from albumen.domain.tiers import CostLine, LifecyclePolicy, Tier, TierPrice, cost_report
from albumen.ports import BlobStore, Clock, JobQueue, TierRepo

log = logging.getLogger(__name__)
BATCH = 500
RESUME_LIMIT = 10_000  # moves cut short, finished per run


class TierService:
    def __init__(
        self,
        repo: TierRepo,
        stores: dict[Tier, BlobStore],
        queue: JobQueue,
        clock: Clock,
        policy: LifecyclePolicy,
        prices: dict[Tier, TierPrice],
    ) -> None:
        self._repo = repo
        self._stores = stores
        self._queue = queue
        self._clock = clock
        self._policy = policy
        self.prices = prices
        self._reads: dict[str, str] = {}  # hash -> the day its read was last recorded
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return len(self._stores) > 1

    def record_read(self, photo: Photo, size: int) -> None:
        """Note that the original was read: its age restarts, a paid tier's read is counted.

        The read time is written at most once a day per original (per process): the policy
        counts in days, and a busy original must not cost a write per request. A database
        that cannot take the write now (busy, away) does not stop the read: it is noted at a
        later read.
        """
        now = self._clock.now()
        today = now.strftime("%Y-%m-%d")
        try:
            if photo.tier is not Tier.HOT:
                self._repo.count_retrieval(photo.owner_id, photo.tier, size, now)
            with self._lock:
                if self._reads.get(photo.sha256) == today:
                    return
                if len(self._reads) > 100_000:
                    self._reads.clear()
                self._reads[photo.sha256] = today
            self._repo.read(photo.sha256, now)
        except Unavailable as err:
            with self._lock:
                self._reads.pop(photo.sha256, None)
            log.warning("read not noted", extra={"sha256": photo.sha256, "code": err.code})

    def request_restore(self, photo: Photo) -> int:
        """Ask for a cold original back; the seconds to wait before asking again."""
        self._repo.start_move(photo.sha256, Tier.HOT)
        self._queue.enqueue(JobName.RESTORE_ORIGINAL, photo.sha256)
        log.info("restore requested", extra={"photo_id": photo.id, "sha256": photo.sha256})
        return max(1, round(self.prices[Tier.COLD].latency_seconds))

    def restore(self, sha256: str) -> bool:
        """Bring an original back to hot (the restore job)."""
        return self.move(sha256, Tier.HOT)

    def run_lifecycle(self) -> int:
        """Finish moves cut short, then move what the policy says; how many moved."""
        if not self.enabled:
            return 0
        # once per run: a move that cannot finish (no good copy left) stays noted for the scrub
        # to report, and must not be retried in a loop
        moved = sum(self.move(sha256, to) for sha256, to in self._repo.moving(RESUME_LIMIT))
        now = self._clock.now()
        deepest = max(self._stores, key=list(Tier).index)
        for source, unread, target in (
            (Tier.HOT, self._policy.warm_after, Tier.WARM),
            (Tier.WARM, self._policy.cold_after, Tier.COLD),
        ):
            target = min(target, deepest, key=list(Tier).index)
            if target is source or source not in self._stores:
                continue
            while due := self._repo.unread_since(source, now - unread, BATCH):
                moved += sum(self.move(sha256, target) for sha256 in due)
        if Tier.WARM in self._stores:
            since = now - self._policy.warm_after
            while back := self._repo.read_since(Tier.WARM, since, BATCH):
                moved += sum(self.move(sha256, Tier.HOT) for sha256 in back)
        if moved:
            log.info("tier moves", extra={"moved": moved})
        return moved

    def move(self, sha256: str, to: Tier) -> bool:
        """Move one original to ``to``; False when it cannot be yet (an archived copy being
        restored) or at all (no good copy left): the move stays noted, and resumes."""
        target = self._stores.get(to)
        if target is None:
            raise ValueError(f"no {to.value} store is configured")
        self._repo.start_move(sha256, to)
        if not self._good(target, sha256):
            copied = self._copy(sha256, to, target)
            if copied is None:
                return False  # waiting for an archive restore
            if not copied:
                log.error("no good copy to move", extra={"sha256": sha256, "to": to.value})
                if not any(store.exists(sha256) for store in self._stores.values()):
                    self._repo.forget(sha256)  # gone: the scrub reports what referred to it
                return False
        for tier, store in self._stores.items():
            if tier is not to:
                store.delete(sha256)
        self._repo.finish_move(sha256, to, self._clock.now())
        return True

    def report(self, months: int = 1) -> list[CostLine]:
        """Per owner and tier: what is stored, its monthly cost, and recent retrievals."""
        now = self._clock.now()
        year, month = now.year, now.month - (months - 1)
        while month < 1:
            year, month = year - 1, month + 12
        return cost_report(
            self._repo.usage(), self._repo.retrievals(f"{year:04d}-{month:02d}"), self.prices
        )

    def _copy(self, sha256: str, to: Tier, target: BlobStore) -> bool | None:
        """Copy from another tier with a good copy (hashed as it is written), then hash it again
        where it now lies. ``None`` when the only copies are archived and being restored."""
        waiting = False
        for tier, source in self._stores.items():
            if tier is to or not source.exists(sha256):
                continue
            if not source.thaw(sha256):
                waiting = True
                log.info("waiting for an archive restore", extra={"sha256": sha256})
                continue
            try:
                if not target.copy_from(source, sha256):  # S3 to S3: a server-side copy
                    target.put_file(source.local_path(sha256), sha256, replace=True)
            except (BlobMissing, IntegrityError) as err:  # that copy is bad: try another
                log.warning(
                    "bad copy", extra={"sha256": sha256, "tier": tier.value, "error": str(err)}
                )
                continue
            self._verify(target, sha256, to)
            return True
        return None if waiting else False

    def _verify(self, target: BlobStore, sha256: str, to: Tier) -> None:
        try:
            if target.hash_of(sha256) != sha256:
                raise IntegrityError(f"the {to.value} copy of {sha256} does not verify")
        except Archived:
            # An archive cannot be read back; S3 checked every part's SHA-256 on the upload
            # and the size after it, which is the check there is.
            log.info("archived copy verified by its upload checksums", extra={"sha256": sha256})

    def _good(self, store: BlobStore, sha256: str) -> bool:
        try:
            return store.exists(sha256) and store.hash_of(sha256) == sha256
        except BlobMissing:
            return False
        except Archived:  # there, and checked by S3 when it was written; unreadable for now
            return True
