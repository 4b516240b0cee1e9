"""The data folder as the operating system has it: whether it can be written, and the lock that
keeps one ``albumen serve`` per embedded data folder.

The embedded world keeps its caches, its locks and its job workers in one process; a second
server on the same folder would run beside the first with none of them shared. So ``serve``
holds ``run/serve.lock`` (an ``flock``, released by the kernel however the process ends) and
a second one is refused, naming the first. PostgreSQL, Redis and S3 take many servers.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from typing import IO

from albumen.domain.errors import AlbumenError


class DataDirUnusable(AlbumenError):
    code = "data_dir_unusable"


def check_writable(folder: Path) -> None:
    """``DataDirUnusable`` naming the folder and the reason when it cannot be written."""
    probe = folder / f".write-check-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise DataDirUnusable(
            f"the data folder {folder} cannot be written ({reason}): Albumen keeps its"
            " database, photos and uploads there; make it writable, or point ALBUMEN_DATA_DIR"
            " elsewhere"
        ) from err


def hold_data_dir(folder: Path) -> IO[str]:
    """The lock of one server on ``folder``, held while the returned file stays open."""
    run = folder / "run"
    run.mkdir(parents=True, exist_ok=True)
    lock = (run / "serve.lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        lock.close()
        raise DataDirUnusable(
            f"another albumen serve (pid {holder}) is using {folder}: one server per embedded"
            " data folder (PostgreSQL, Redis and S3 take several); stop it first"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    return lock
