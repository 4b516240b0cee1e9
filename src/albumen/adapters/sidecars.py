"""``LocalSidecarStore``: metadata sidecars as JSON files in the blob store's folder.

Layout: ``ROOT/sidecars/<kind>/<first two characters of the id>/<id>.json``, written
atomically (temporary file, fsync, rename) into every root given: the primary store and,
when there is one, the mirror. A rebuild reads the first root that has a sidecar of a record.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from albumen.domain.durability import SidecarKind


class LocalSidecarStore:
    def __init__(self, roots: list[Path]) -> None:
        self._roots = [root / "sidecars" for root in roots]

    def put(self, kind: SidecarKind, record_id: str, document: bytes) -> None:
        for root in self._roots:
            dest = _path(root, kind, record_id)
            dest.parent.mkdir(parents=True, exist_ok=True)
            temp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
            try:
                with temp.open("xb") as out:
                    out.write(document)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, dest)
            finally:
                temp.unlink(missing_ok=True)

    def delete(self, kind: SidecarKind, record_id: str) -> None:
        for root in self._roots:
            _path(root, kind, record_id).unlink(missing_ok=True)

    def scan(self, kind: SidecarKind) -> Iterator[bytes]:
        seen: set[str] = set()
        for root in self._roots:
            for path in sorted((root / kind.value).glob("*/*.json")):
                if path.stem not in seen:
                    seen.add(path.stem)
                    yield path.read_bytes()


def _path(root: Path, kind: SidecarKind, record_id: str) -> Path:
    if not record_id or "/" in record_id or record_id.startswith("."):
        raise ValueError(f"not a record id: {record_id!r}")
    return root / kind.value / record_id[:2] / f"{record_id}.json"
