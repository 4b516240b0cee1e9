"""``SqlBlobReferences``: which blobs the database refers to, and from where."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, inspect, select, union

from albumen.adapters.db.engine import writing
from albumen.adapters.db.tables import derivatives, faces, metadata, photos
from albumen.domain.durability import BlobHolder


class SqlBlobReferences:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def hashes(self, after: str, limit: int) -> list[str]:
        # Each table walks its own sha256 index from ``after``; the union of three short runs
        # is sorted, so a page costs ``limit`` rows per table however large the library.
        parts = [
            select(column.label("sha256"))
            .where(column > after)
            .order_by(column)
            .limit(limit)
            .subquery()
            .select()
            for column in (photos.c.sha256, derivatives.c.sha256, faces.c.crop_sha256)
        ]
        merged = union(*parts).subquery()
        query = select(merged.c.sha256).order_by(merged.c.sha256).limit(limit)
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def holders(self, sha256: str) -> list[BlobHolder]:
        with self._engine.connect() as conn:
            found = [
                BlobHolder(photo_id, "original")
                for photo_id in conn.execute(
                    select(photos.c.id).where(photos.c.sha256 == sha256)
                ).scalars()
            ]
            rows = conn.execute(
                select(derivatives.c.photo_id, derivatives.c.size, derivatives.c.format).where(
                    derivatives.c.sha256 == sha256
                )
            )
            found += [BlobHolder(row.photo_id, f"{row.size}.{row.format}") for row in rows]
            crops = conn.execute(select(faces.c.photo_id).where(faces.c.crop_sha256 == sha256))
            found += [BlobHolder(photo_id, "face crop") for photo_id in crops.scalars()]
        return found

    def forget_derivatives(self, sha256: str) -> int:
        with writing(self._engine) as conn:
            return conn.execute(delete(derivatives).where(derivatives.c.sha256 == sha256)).rowcount

    def row_counts(self) -> dict[str, int]:
        """Rows of each table the schema declares and the database has (an older one may
        lack the newest)."""
        present = set(inspect(self._engine).get_table_names())
        with self._engine.connect() as conn:
            return {
                name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in sorted(metadata.tables.items())
                if name in present
            }
