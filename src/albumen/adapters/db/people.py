"""``SqlPeopleRepo``: faces grouped into people, per owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, Row, and_, delete, func, insert, select, update

from albumen.adapters.db.engine import writing
from albumen.adapters.db.photos import keyset_page, photo_query
from albumen.adapters.db.tables import faces, people, photos
from albumen.domain.analysis import Box
from albumen.domain.people import Face, FaceSet, Person
from albumen.domain.photos import Page, TimelineCursor


class SqlPeopleRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def faces(self, owner_id: str) -> FaceSet:
        """The owner's faces: ids, their people (``None``: not yet grouped), whether the user
        placed them, and embeddings as rows of one matrix."""
        query = (
            select(faces.c.id, faces.c.person_id, faces.c.pinned, faces.c.embedding)
            .where(faces.c.owner_id == owner_id)
            .order_by(faces.c.created_at, faces.c.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return FaceSet([], [], [], np.zeros((0, 0), np.float32))
        matrix = np.stack([np.frombuffer(row.embedding, np.float32) for row in rows])
        return FaceSet(
            [row.id for row in rows],
            [row.person_id for row in rows],
            [bool(row.pinned) for row in rows],
            matrix,
        )

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
            empty = select(faces.c.id).where(faces.c.person_id == people.c.id).exists()
            conn.execute(delete(people).where(people.c.owner_id == owner_id, ~empty))

    def owners(self) -> list[str]:
        """Users who have faces."""
        with self._engine.connect() as conn:
            return list(conn.execute(select(faces.c.owner_id).distinct()).scalars())

    def people(self, owner_id: str, person_id: str | None = None) -> list[Person]:
        """The owner's people (or one of them) with how many faces and photos each has, in
        one query."""
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
        if person_id is not None:
            counted = counted.where(people.c.id == person_id)
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

    def edit(self, owner_id: str, person_id: str, name: str | None, hidden: bool | None) -> None:
        values: dict[str, object] = {}
        if name is not None:
            values["name"] = name.strip() or None
        if hidden is not None:
            values["hidden"] = hidden
        if values:
            with writing(self._engine) as conn:
                conn.execute(
                    update(people)
                    .where(people.c.id == person_id, people.c.owner_id == owner_id)
                    .values(values)
                )

    def merge(self, owner_id: str, into: str, others: Sequence[str]) -> None:
        """Move the faces of ``others`` to ``into``, and delete ``others``."""
        mine = and_(people.c.owner_id == owner_id, people.c.id.in_(others))
        with writing(self._engine) as conn:
            conn.execute(
                update(faces)
                .where(faces.c.owner_id == owner_id, faces.c.person_id.in_(others))
                .values(person_id=into)
            )
            conn.execute(delete(people).where(mine, people.c.id != into))

    def move_face(self, owner_id: str, face_id: str, person_id: str | None, now: datetime) -> str:
        """Put a face in another person (``None``: a new one); the person it is in now. A
        person left without faces goes."""
        with writing(self._engine) as conn:
            before = conn.execute(select(faces.c.person_id).where(faces.c.id == face_id)).scalar()
            if person_id is None:
                person_id = str(uuid.uuid4())
                conn.execute(
                    insert(people).values(
                        id=person_id, owner_id=owner_id, cover_face_id=face_id, created_at=now
                    )
                )
            conn.execute(
                update(faces).where(faces.c.id == face_id).values(person_id=person_id, pinned=True)
            )
            if before is not None:
                left = select(faces.c.id).where(faces.c.person_id == before).limit(1)
                if conn.execute(left).first() is None:
                    conn.execute(delete(people).where(people.c.id == before))
        return person_id

    def face(self, owner_id: str, face_id: str) -> Face | None:
        query = select(faces).where(faces.c.id == face_id, faces.c.owner_id == owner_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _face(row)

    def faces_of_photo(self, photo_id: str) -> list[Face]:
        query = select(faces).where(faces.c.photo_id == photo_id).order_by(faces.c.x)
        with self._engine.connect() as conn:
            return [_face(row) for row in conn.execute(query)]

    def faces_of_person(
        self, owner_id: str, person_id: str, limit: int, after: str | None
    ) -> list[Face]:
        """Up to ``limit`` faces of the person, by id, after the face ``after``."""
        query = (
            select(faces)
            .where(faces.c.owner_id == owner_id, faces.c.person_id == person_id)
            .order_by(faces.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(faces.c.id > after)
        with self._engine.connect() as conn:
            return [_face(row) for row in conn.execute(query)]

    def photos_page(
        self, owner_id: str, person_id: str, limit: int, after: TimelineCursor | None
    ) -> Page:
        """The person's photos (not trashed), newest first."""
        theirs = select(faces.c.photo_id).where(
            faces.c.owner_id == owner_id, faces.c.person_id == person_id
        )
        query = (
            photo_query()
            .where(photos.c.id.in_(theirs), photos.c.deleted_at.is_(None))
            .order_by(photos.c.doc_id.desc())
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(photos.c.doc_id < after.doc_id)
        return keyset_page(self._engine, query, limit)


def _face(row: Row[Any]) -> Face:
    return Face(
        id=row.id,
        photo_id=row.photo_id,
        person_id=row.person_id,
        box=Box(row.x, row.y, row.width, row.height),
        score=row.score,
        crop_sha256=row.crop_sha256,
    )
