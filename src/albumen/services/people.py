"""``PeopleService``: faces grouped into people as they arrive.

Each new face joins the person of the most similar face the owner already has, when that face
is similar enough (``SAME_PERSON``), or starts a new person. One user's faces never meet
another's. Users name, merge, hide people and split faces off; all per owner.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from albumen.domain import limits
from albumen.domain.errors import InvalidInput, NotFound
from albumen.domain.people import SAME_PERSON, Face, Person
from albumen.domain.photos import Page, Photo, TimelineCursor
from albumen.ports import Clock, PeopleRepo
from albumen.services.photos import check_limit


class PeopleService:
    def __init__(self, people: PeopleRepo, clock: Clock) -> None:
        self._people = people
        self._clock = clock

    def group_new_faces(self, owner_id: str) -> int:
        """Give every ungrouped face of the owner a person; the number grouped."""
        found = self._people.faces(owner_id)
        ids, persons, matrix = found.ids, found.persons, found.matrix
        known = [n for n, person in enumerate(persons) if person is not None]
        assignments: dict[str, str] = {}
        new_people: dict[str, str] = {}  # person id -> the face that starts them
        for n, person in enumerate(persons):
            if person is not None:
                continue
            scores = matrix[known] @ matrix[n] if known else np.zeros(0)
            top = int(np.argmax(scores)) if len(scores) else -1
            if top >= 0 and float(scores[top]) >= SAME_PERSON:
                face = ids[known[top]]
                assignments[ids[n]] = persons[known[top]] or assignments[face]
            else:
                assignments[ids[n]] = str(uuid.uuid4())
                new_people[assignments[ids[n]]] = ids[n]
            known.append(n)
        self._people.group(owner_id, assignments, new_people, self._clock.now())
        return len(assignments)

    def regroup(self, owner_id: str) -> int:
        """Group all the owner's faces again by density (DBSCAN), which corrects what one face
        at a time got wrong: each dense cluster goes to the person most of it is in. Faces the
        user placed, and people the user named, are left as they are. The faces moved."""
        found = self._people.faces(owner_id)
        if len(found.ids) < 2:
            return 0
        names = {p.id: p.name for p in self._people.people(owner_id)}
        labels = _clusters(found.matrix)
        assignments: dict[str, str] = {}
        new_people: dict[str, str] = {}
        for label in set(labels) - {-1}:
            members = [n for n, other in enumerate(labels) if other == label]
            target = _majority([found.persons[n] for n in members], names)
            for n in members:
                current = found.persons[n]
                if found.pinned[n] or (current and names.get(current)) or current == target:
                    continue
                if target is None:
                    target = str(uuid.uuid4())
                    new_people[target] = found.ids[n]
                assignments[found.ids[n]] = target
        self._people.group(owner_id, assignments, new_people, self._clock.now())
        return len(assignments)

    def regroup_everyone(self) -> int:
        return sum(self.regroup(owner_id) for owner_id in self._people.owners())

    def people(self, owner_id: str, hidden: bool = False) -> list[Person]:
        """The owner's people, most photographed first (the hidden ones only when asked)."""
        return [p for p in self._people.people(owner_id) if p.hidden == hidden or hidden]

    def person(self, owner_id: str, person_id: str) -> Person:
        found = self._people.people(owner_id, person_id)
        if not found:
            raise NotFound("no such person", code="person_not_found")
        return found[0]

    def edit(self, owner_id: str, person_id: str, name: str | None, hidden: bool | None) -> Person:
        self.person(owner_id, person_id)
        if name is not None and len(name) > limits.NAME:
            raise InvalidInput(f"a name has at most {limits.NAME} characters", code="invalid_name")
        self._people.edit(owner_id, person_id, name, hidden)
        return self.person(owner_id, person_id)

    def merge(self, owner_id: str, into: str, others: Sequence[str]) -> Person:
        """One person from several (the same person, split by the models)."""
        for person_id in {into, *others}:
            self.person(owner_id, person_id)
        self._people.merge(owner_id, into, [p for p in others if p != into])
        return self.person(owner_id, into)

    def move_face(self, owner_id: str, face_id: str, person_id: str | None) -> Face:
        """Put a face in another person, or (``None``) split it off into a new one."""
        self.face(owner_id, face_id)
        if person_id is not None:
            self.person(owner_id, person_id)
        self._people.move_face(owner_id, face_id, person_id, self._clock.now())
        return self.face(owner_id, face_id)

    def face(self, owner_id: str, face_id: str) -> Face:
        found = self._people.face(owner_id, face_id)
        if found is None:
            raise NotFound("no such face", code="face_not_found")
        return found

    def faces_of(self, photo: Photo) -> list[Face]:
        return self._people.faces_of_photo(photo.id)

    def faces_of_person(
        self, owner_id: str, person_id: str, limit: int, after: str | None
    ) -> tuple[list[Face], str | None]:
        """A page of the person's faces (to review, and move a wrong one out), and the
        cursor of the next page (``None``: the last)."""
        check_limit(limit)
        self.person(owner_id, person_id)
        found = self._people.faces_of_person(owner_id, person_id, limit + 1, after)
        more = len(found) > limit
        return found[:limit], found[limit - 1].id if more else None

    def photos(
        self, owner_id: str, person_id: str, limit: int, cursor: TimelineCursor | None
    ) -> Page:
        check_limit(limit)
        self.person(owner_id, person_id)
        return self._people.photos_page(owner_id, person_id, limit, cursor)


def _clusters(matrix: Any) -> list[int]:
    """DBSCAN labels (-1: noise) over unit vectors, where a neighbour is ``SAME_PERSON``-alike:
    for unit vectors, euclidean distance² = 2 - 2·cosine."""
    from sklearn.cluster import DBSCAN  # 2 s to import: only where regrouping runs

    radius = math.sqrt(2 * (1 - SAME_PERSON))
    return [int(label) for label in DBSCAN(eps=radius, min_samples=2).fit_predict(matrix)]


def _majority(persons: list[str | None], names: dict[str, str | None]) -> str | None:
    """The person most of a cluster is in; a named one wins a tie."""
    counts = Counter(person for person in persons if person)
    if not counts:
        return None
    return max(counts, key=lambda person: (counts[person], bool(names.get(person))))
