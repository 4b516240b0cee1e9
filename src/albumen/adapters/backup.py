"""``LocalBackupArchive``: backups in a folder, each one a snapshot sharing one blob store.

Layout of the folder::

    blobs/ab/cd/<sha256>          every blob any backup needs, content-addressed: a backup
                                  copies only the blobs the earlier ones lack (incremental)
    snapshots/<name>/database.sqlite3
    snapshots/<name>/blobs.txt    "<sha256> <bytes>" per blob the database refers to, sorted
    snapshots/<name>/secret.key   the data dir's secret (share-link unlocks), mode 0600
    snapshots/<name>/manifest.json   written last: a snapshot without it is incomplete

The folder can sit on another disk, or be synced elsewhere as it is (rsync, rclone).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from albumen.adapters.blobs import LocalBlobStore
from albumen.domain.durability import BackupManifest, DatabaseSnapshot
from albumen.domain.errors import NotFound

MANIFEST = "manifest.json"


class LocalBackupArchive:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._snapshots = root / "snapshots"
        self._snapshots.mkdir(parents=True, exist_ok=True)
        self.blobs = LocalBlobStore(root / "blobs", verify_writes=False)

    def names(self) -> list[str]:
        """Complete snapshots, oldest first."""
        return sorted(p.parent.name for p in self._snapshots.glob(f"*/{MANIFEST}"))

    def start(self, name: str) -> Path:
        """A new snapshot's folder; incomplete ones of earlier runs are removed."""
        for folder in self._snapshots.iterdir():
            if folder.is_dir() and not (folder / MANIFEST).exists():
                shutil.rmtree(folder)
        folder = self._snapshots / name
        folder.mkdir()
        return folder

    def database_path(self, name: str) -> Path:
        return self._folder(name) / "database.sqlite3"

    def write_blob_list(self, name: str, blobs: Iterable[tuple[str, int]]) -> None:
        with _atomic(self._folder(name) / "blobs.txt") as out:
            for sha256, size in blobs:
                out.write(f"{sha256} {size}\n".encode())

    def blob_list(self, name: str) -> Iterator[tuple[str, int]]:
        with (self._folder(name) / "blobs.txt").open() as lines:
            for line in lines:
                sha256, size = line.split()
                yield sha256, int(size)

    def keep_secret(self, name: str, source: Path) -> None:
        dest = self._folder(name) / "secret.key"
        with _atomic(dest, mode=0o600) as out:
            out.write(source.read_bytes())

    def secret_path(self, name: str) -> Path | None:
        path = self._folder(name) / "secret.key"
        return path if path.exists() else None

    def complete(self, manifest: BackupManifest) -> None:
        with _atomic(self._folder(manifest.name) / MANIFEST) as out:
            out.write(json.dumps(asdict(manifest), indent=2, default=str).encode() + b"\n")

    def manifest(self, name: str) -> BackupManifest:
        path = self._folder(name) / MANIFEST
        if not path.exists():
            raise NotFound(f"no complete backup named {name!r} in {self.root}", code="no_backup")
        raw: dict[str, Any] = json.loads(path.read_text())
        raw["created_at"] = datetime.fromisoformat(raw["created_at"])
        raw["database"] = DatabaseSnapshot(**raw["database"])
        return BackupManifest(**raw)

    def _folder(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise NotFound(f"no backup named {name!r}", code="no_backup")
        return self._snapshots / name


class _atomic:
    """A file written to a temporary name, fsynced, and renamed into place on success."""

    def __init__(self, dest: Path, mode: int = 0o644) -> None:
        self._dest = dest
        self._temp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
        self._fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        self._file = os.fdopen(self._fd, "wb")

    def __enter__(self) -> Any:
        return self._file

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            if kind is None:
                self._file.flush()
                os.fsync(self._file.fileno())
            self._file.close()
            if kind is None:
                os.replace(self._temp, self._dest)
                dir_fd = os.open(self._dest.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        finally:
            self._temp.unlink(missing_ok=True)
