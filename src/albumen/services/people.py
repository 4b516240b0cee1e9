"""``PeopleService``: faces grouped into people as they arrive.

Each new face joins the person of the most similar face the owner already has, when that face
is similar enough (``SAME_PERSON``), or starts a new person. One user's faces never meet
another's. (A periodic density re-clustering, naming, merging and the API come next.)
"""

from __future__ import annotations

import uuid

import numpy as np

from albumen.domain.people import SAME_PERSON, Person
from albumen.ports import Clock, PeopleRepo


class PeopleService:
    def __init__(self, people: PeopleRepo, clock: Clock) -> None:
        self._people = people
        self._clock = clock

    def group_new_faces(self, owner_id: str) -> int:
        """Give every ungrouped face of the owner a person; the number grouped."""
        ids, persons, matrix = self._people.faces(owner_id)
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

    def people(self, owner_id: str) -> list[Person]:
        return self._people.people(owner_id)
