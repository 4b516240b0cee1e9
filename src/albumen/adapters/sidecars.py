"""Metadata sidecars as JSON beside the blobs: in a folder, in a bucket, and in every copy.

Layout (both kinds): ``sidecars/<kind>/<first two characters of the id>/<id>.json`` under the
blob store's root (a folder, or the bucket). A file is written atomically (temporary file,
fsync, rename); an object is one PUT. ``SidecarCopies`` writes each sidecar to the primary
store's place and the mirror's, and a rebuild reads the first copy that has a record.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from albumen.domain.durability import SidecarKind
from albumen.ports import SidecarStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class LocalSidecarStore:
    def __init__(self, root: Path) -> None:
        self._root = root / "sidecars"

    def put(self, kind: SidecarKind, record_id: str, document: bytes) -> None:
        dest = self._root / _name(kind, record_id)
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
        (self._root / _name(kind, record_id)).unlink(missing_ok=True)

    def scan(self, kind: SidecarKind) -> Iterator[tuple[str, bytes]]:
        for path in sorted((self._root / kind.value).glob("*/*.json")):
            yield path.stem, path.read_bytes()


class S3SidecarStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def put(self, kind: SidecarKind, record_id: str, document: bytes) -> None:
        key = f"sidecars/{_name(kind, record_id)}"
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=document)

    def delete(self, kind: SidecarKind, record_id: str) -> None:
        self._s3.delete_object(Bucket=self._bucket, Key=f"sidecars/{_name(kind, record_id)}")

    def scan(self, kind: SidecarKind) -> Iterator[tuple[str, bytes]]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=f"sidecars/{kind.value}/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self._bucket, Key=item["Key"])["Body"]
                yield item["Key"].rsplit("/", 1)[-1].removesuffix(".json"), body.read()


class SidecarCopies:
    """Every sidecar in each store given (the primary's place, then the mirror's)."""

    def __init__(self, stores: list[SidecarStore]) -> None:
        self._stores = stores

    def put(self, kind: SidecarKind, record_id: str, document: bytes) -> None:
        for store in self._stores:
            store.put(kind, record_id, document)

    def delete(self, kind: SidecarKind, record_id: str) -> None:
        for store in self._stores:
            store.delete(kind, record_id)

    def scan(self, kind: SidecarKind) -> Iterator[tuple[str, bytes]]:
        seen: set[str] = set()
        for store in self._stores:
            for record_id, document in store.scan(kind):
                if record_id not in seen:
                    seen.add(record_id)
                    yield record_id, document


def _name(kind: SidecarKind, record_id: str) -> str:
    if not record_id or "/" in record_id or record_id.startswith("."):
        raise ValueError(f"not a record id: {record_id!r}")
    return f"{kind.value}/{record_id[:2]}/{record_id}.json"
