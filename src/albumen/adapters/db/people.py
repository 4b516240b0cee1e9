"""``SqlPeopleRepo``: faces grouped into people, per owner."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, and_, func, insert, select, update

from albumen.adapters.db.engine import writing
from albumen.adapters.db.tables import faces, people
from albumen.domain.people import Person

Vectors = NDArray[np.float32]


class SqlPeopleRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def faces(self, owner_id: str) -> tuple[list[str], list[str | None], Vectors]:
        """The owner's faces: ids, their people (``None``: not yet grouped), and embeddings
        as rows of one matrix."""
        query = (
            select(faces.c.id, faces.c.person_id, faces.c.embedding)
            .where(faces.c.owner_id == owner_id)
            .order_by(faces.c.created_at, faces.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return [], [], np.zeros((0, 0), np.float32)
        matrix = np.stack([np.frombuffer(row.embedding, np.float32) for row in rows])
        return [row.id for row in rows], [row.person_id for row in rows], matrix

    def group(
        self,
        owner_id: str,
        assignments: dict[str, str],
        new_people: dict[str, str],
        now: datetime,
    ) -> None:
        """Create the new people (id → their cover face), then put the faces in people."""
        with writing(self._engine) as conn:
            for person_id, face_id in new_people.items():
                conn.execute(
                    insert(people).values(
                        id=person_id, owner_id=owner_id, cover_face_id=face_id, created_at=now
                    )
                )
            for face_id, person_id in assignments.items():
                conn.execute(
                    update(faces)
                    .where(faces.c.id == face_id, faces.c.owner_id == owner_id)
                    .values(person_id=person_id)
                )

    def people(self, owner_id: str) -> list[Person]:
        """The owner's people with how many faces and photos each has, in one query."""
        counted = (
            select(
                people,
                func.count(faces.c.id).label("faces"),
                func.count(func.distinct(faces.c.photo_id)).label("photos"),
            )
            .outerjoin(faces, and_(faces.c.person_id == people.c.id))
            .where(people.c.owner_id == owner_id)
            .group_by(people.c.id)
            .order_by(func.count(faces.c.id).desc(), people.c.id)
        )
        with self._engine.connect() as conn:
            return [
                Person(
                    id=row.id,
                    name=row.name,
                    cover_face_id=row.cover_face_id,
                    hidden=bool(row.hidden),
                    face_count=row.faces,
                    photo_count=row.photos,
                )
                for row in conn.execute(counted)
            ]
