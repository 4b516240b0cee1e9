"""``SqlAnalysisRepo``: what the models saw in each photo (faces, tags, embedding)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import numpy as np
from sqlalchemy import Engine, delete, insert, or_, select, text, update

from albumen.adapters.db.engine import dialect_insert, writing
from albumen.adapters.db.tables import faces, photo_embeddings, photo_tags, photos
from albumen.domain.analysis import CLIP, LIKENESS, Analysis, Likeness
from albumen.domain.photos import PhotoStatus


class SqlAnalysisRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save(
        self,
        photo_id: str,
        owner_id: str,
        version: str,
        analysis: Analysis,
        crops: list[str | None],
        now: datetime,
    ) -> None:
        """Replace what earlier models saw in the photo, in one transaction. The user's own
        tags stay; a model's tag the user also gave stays the user's."""
        with writing(self._engine) as conn:
            conn.execute(
                delete(photo_tags).where(
                    photo_tags.c.photo_id == photo_id, photo_tags.c.source != "user"
                )
            )
            tags = [
                {"photo_id": photo_id, "tag": g.tag, "source": g.source, "confidence": g.confidence}
                for g in analysis.tags
            ]
            if tags:
                conn.execute(dialect_insert(conn, photo_tags).on_conflict_do_nothing(), tags)
            conn.execute(delete(faces).where(faces.c.photo_id == photo_id))
            rows = [
                {
                    "id": str(uuid.uuid4()),
                    "photo_id": photo_id,
                    "owner_id": owner_id,
                    "x": face.box.x,
                    "y": face.box.y,
                    "width": face.box.width,
                    "height": face.box.height,
                    "landmarks": json.dumps([list(point) for point in face.landmarks]),
                    "score": face.score,
                    "embedding": _blob(face.embedding),
                    "crop_sha256": crop,
                    "created_at": now,
                }
                for face, crop in zip(analysis.faces, crops, strict=True)
            ]
            if rows:
                conn.execute(insert(faces), rows)
            conn.execute(delete(photo_embeddings).where(photo_embeddings.c.photo_id == photo_id))
            for space, vector, phash in (
                (LIKENESS, analysis.embedding, analysis.phash),
                (CLIP, analysis.clip, None),
            ):
                if vector:
                    conn.execute(
                        insert(photo_embeddings).values(
                            photo_id=photo_id,
                            owner_id=owner_id,
                            space=space,
                            model=version,
                            vector=_blob(vector),
                            phash=phash,
                        )
                    )
                    if conn.dialect.name == "postgresql":  # pgvector's copy (migration 0011)
                        conn.execute(
                            _SET_EMBEDDING, {"p": photo_id, "s": space, "v": text_vector(vector)}
                        )
            conn.execute(
                update(photos)
                .where(photos.c.id == photo_id)
                .values(analysis_version=version, analysis_error=None)
            )

    def fail(self, photo_id: str, version: str, error: str) -> None:
        """Record why analysis failed; the photo and everything else about it stay."""
        with writing(self._engine) as conn:
            conn.execute(
                update(photos)
                .where(photos.c.id == photo_id)
                .values(analysis_version=version, analysis_error=error)
            )

    def likeness(self, photo_id: str) -> Likeness | None:
        query = select(photo_embeddings).where(
            photo_embeddings.c.photo_id == photo_id, photo_embeddings.c.space == LIKENESS
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return (
            None if row is None else Likeness(row.photo_id, row.key, _vector(row.vector), row.phash)
        )

    def likenesses(self, owner_id: str) -> list[Likeness]:
        """Every analysed photo of the owner that is not in the trash."""
        query = (
            select(photo_embeddings)
            .join(photos, photos.c.id == photo_embeddings.c.photo_id)
            .where(
                photo_embeddings.c.owner_id == owner_id,
                photo_embeddings.c.space == LIKENESS,
                photos.c.deleted_at.is_(None),
            )
        )
        with self._engine.connect() as conn:
            return [
                Likeness(row.photo_id, row.key, _vector(row.vector), row.phash)
                for row in conn.execute(query)
            ]

    def photos_of_keys(self, owner_id: str, keys: list[int]) -> dict[int, str]:
        """The photos (of this owner, not trashed) that these keys still stand for."""
        query = (
            select(photo_embeddings.c.key, photo_embeddings.c.photo_id)
            .join(photos, photos.c.id == photo_embeddings.c.photo_id)
            .where(
                photo_embeddings.c.owner_id == owner_id,
                photo_embeddings.c.key.in_(keys),
                photos.c.deleted_at.is_(None),
            )
        )
        with self._engine.connect() as conn:
            return {int(key): photo_id for key, photo_id in conn.execute(query)}

    def unanalysed(self, version: str, everything: bool, limit: int) -> list[str]:
        """Ready photos not analysed by this version (``everything``: all ready photos)."""
        query = select(photos.c.id).where(photos.c.status == PhotoStatus.READY.value)
        if not everything:
            query = query.where(
                or_(photos.c.analysis_version.is_(None), photos.c.analysis_version != version)
            )
        with self._engine.connect() as conn:
            return list(conn.execute(query.order_by(photos.c.doc_id.desc()).limit(limit)).scalars())


_SET_EMBEDDING = text(
    "UPDATE photo_embeddings SET embedding = CAST(:v AS vector) WHERE photo_id = :p AND space = :s"
)


def text_vector(vector: tuple[float, ...] | np.ndarray) -> str:
    """A vector in pgvector's text form, ``[0.1,0.2]`` (float32 values, exactly: nine
    significant digits tell every float32 apart)."""
    values = np.asarray(vector, np.float32).tolist()
    return "[" + ",".join(["%.9g"] * len(values)) % tuple(values) + "]"


def _blob(vector: tuple[float, ...]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes) -> tuple[float, ...]:
    return tuple(float(v) for v in np.frombuffer(blob, np.float32))
