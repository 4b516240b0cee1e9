"""Durability figures: scrub, backup and restore throughput, the mirror's cost, sidecars.

``python -m bench.durability`` (part of ``make bench``) builds a library of ``BENCH_ORIGINALS``
originals of 4 MB (random bytes behind a JPEG header: the scrub never decodes) plus small
photos for the sidecars, then measures, each against a reference in the same run:

- scrub (re-hash every blob, both ways against the database) in GB/min, against coreutils'
  ``sha256sum`` over the same files, one process per core;
- backup into an empty folder, then again (incremental), and restore, against ``cp -r``;
- ingest with a mirror against ingest without;
- sidecars written per second, and ``rebuild-index`` photos per second.

The files sit in the page cache after the first pass, so these are CPU-bound rates: on a disk
slower than SHA-256 (about 0.4-2 GB/s per core), the disk sets the pace.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from albumen.adapters.backup import LocalBackupArchive
from albumen.adapters.db.engine import make_engine
from albumen.app.infrastructure import blob_stores
from albumen.app.root import build
from albumen.app.services import backup_service
from albumen.config import Settings
from bench.library import percentiles

ROOT = Path(__file__).resolve().parent
ORIGINALS = int(os.environ.get("BENCH_ORIGINALS", "400"))
SMALL = int(os.environ.get("BENCH_SIDECAR_PHOTOS", "3000"))
MB = 1024 * 1024
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def _settings(data_dir: Path, mirror: Path | None = None) -> Settings:
    return Settings(
        data_dir=data_dir,
        mirror_url=mirror.as_uri() if mirror else "",
        run_workers_in_server=False,
        analysis=False,
    )


def _ingest(settings: Settings, count: int, size: int, seed: int) -> list[float]:
    """Store ``count`` photos through the service; each ingest's time in ms."""
    built = build(settings)
    owner = built.services.users.add(f"bench{seed}").user.id
    times = []
    try:
        for n in range(count):
            writer = built.services.photos.stage()
            writer.write(JPEG_HEAD + n.to_bytes(8, "big") + seed.to_bytes(4, "big"))
            writer.write(os.urandom(size - len(JPEG_HEAD) - 12))
            staged = writer.finish()
            start = time.perf_counter()
            built.services.photos.ingest(owner, f"p{n}.jpg", staged)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        built.close()
    return times


def _raw_sha256(paths: list[str]) -> float:
    """Seconds to read and hash the files in one thread (OpenSSL's SHA-256, as hashlib has it)."""
    start = time.perf_counter()
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            while chunk := file.read(MB):
                digest.update(chunk)
    return time.perf_counter() - start


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="albumen-durability-", dir=ROOT))
    try:
        return _run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path) -> dict[str, object]:
    data = work / "data"
    plain = _ingest(_settings(data), ORIGINALS, 4 * MB, 1)
    mirrored = _ingest(_settings(work / "mirrored", work / "mirror"), ORIGINALS // 4, 4 * MB, 2)
    built = build(_settings(data))
    blobs = sorted(str(p) for p in (data / "blobs").glob("??/??/*"))
    gigabytes = sum(os.path.getsize(p) for p in blobs) / 1e9

    cores = os.cpu_count() or 1
    per_core = [blobs[i::cores] for i in range(cores)]
    _timed(["sha256sum", *blobs])  # warm the page cache
    reference = []
    raw = []
    scrubs = []
    for _ in range(3):
        raw.append(_raw_sha256(blobs))
        start = time.perf_counter()
        procs = [
            subprocess.Popen(["sha256sum", *part], stdout=subprocess.DEVNULL) for part in per_core
        ]
        for proc in procs:
            proc.wait()
        reference.append(time.perf_counter() - start)
        report = built.services.scrub.scrub()
        assert not report.findings, report.findings
        scrubs.append(report.seconds)
    scrub_s, sha_s = statistics.median(scrubs), statistics.median(reference)
    raw_s = statistics.median(raw)

    backups = backup_service(
        built.infrastructure.settings,
        built.infrastructure.engine,
        built.infrastructure.stores.blobs,
    )
    archive = LocalBackupArchive(work / "backup")
    first = backups.backup(archive)
    second = backups.backup(archive)
    cp_s = _timed(["cp", "-r", str(data / "blobs"), str(work / "cp-copy")])
    built.close()

    restored = work / "restored"
    target = build(_settings(restored))
    target.close()
    (restored / "albumen.db").unlink()
    for extra in ("albumen.db-wal", "albumen.db-shm"):
        (restored / extra).unlink(missing_ok=True)
    settings = _settings(restored)
    engine = make_engine(settings.effective_database_url.reveal())
    restorer = backup_service(settings, engine, blob_stores(settings).blobs)
    restore = restorer.restore(archive, None, None)[1]
    engine.dispose()

    sidecars = _sidecar_figures(work / "sidecars")
    return {
        "originals": ORIGINALS,
        "gigabytes": round(gigabytes, 3),
        "scrub": {
            "seconds": round(scrub_s, 2),
            "gb_per_min": round(gigabytes / scrub_s * 60, 2),
            "blobs": report.hashed_blobs,
            "reference_sha256sum_gb_per_min": round(gigabytes / sha_s * 60, 2),
            "ratio_to_sha256sum": round(scrub_s / sha_s, 2),
            "raw_sha256_one_thread_gb_per_min": round(gigabytes / raw_s * 60, 2),
            "ratio_to_raw_one_thread": round(scrub_s / raw_s, 2),
        },
        "backup": {
            "first_seconds": round(first.seconds, 2),
            "first_gb_per_min": round(first.blob_bytes / 1e9 / first.seconds * 60, 2),
            "incremental_seconds": round(second.seconds, 2),
            "incremental_copied": second.copied,
            "reference_cp_seconds": round(cp_s, 2),
            "ratio_to_cp": round(first.seconds / cp_s, 2),
        },
        "restore": {
            "seconds": round(restore.seconds, 2),
            "gb_per_min": round(restore.blob_bytes / 1e9 / restore.seconds * 60, 2),
            "ratio_to_cp": round(restore.seconds / cp_s, 2),
        },
        "ingest_4mb_ms": {
            "without_mirror": percentiles(plain),
            "with_mirror": percentiles(mirrored),
        },
        "sidecars": sidecars,
    }


def _sidecar_figures(data_dir: Path) -> dict[str, object]:
    settings = _settings(data_dir)
    _ingest(settings, SMALL, 2048, 3)
    built = build(settings)
    start = time.perf_counter()
    written = built.services.sidecars.flush()
    while more := built.services.sidecars.flush():
        written += more
    flush_s = time.perf_counter() - start
    built.close()
    for name in ("albumen.db", "albumen.db-wal", "albumen.db-shm"):
        (data_dir / name).unlink(missing_ok=True)
    built = build(settings)
    rebuilt = built.services.sidecars.rebuild()
    built.close()
    return {
        "photos": SMALL,
        "written": written,
        "written_per_second": round(written / flush_s),
        "rebuilt_photos": rebuilt.photos,
        "rebuilt_per_second": round(rebuilt.photos / rebuilt.seconds),
    }


if __name__ == "__main__":
    result = main()
    print(json.dumps(result, indent=2))
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "durability.json").write_text(json.dumps(result, indent=2) + "\n")
