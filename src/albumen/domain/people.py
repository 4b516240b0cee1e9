"""People: the faces of one person, grouped, and named by the user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from albumen.domain.analysis import Box

# Cosine similarity of two SFace embeddings above which they are taken for one person. On the
# labelled photos the same person scores 0.53 and more, two people 0.29 and less; SFace's own
# suggestion is 0.363. Above the middle, for precision: a wrong merge is worse than a split.
SAME_PERSON = 0.42


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str | None
    cover_face_id: str | None
    hidden: bool
    face_count: int
    photo_count: int


@dataclass(frozen=True, slots=True)
class Face:
    id: str
    photo_id: str
    person_id: str | None
    box: Box
    score: float
    crop_sha256: str | None


@dataclass(frozen=True, slots=True)
class FaceSet:
    """An owner's faces, in the order of ``ids``, with their embeddings as matrix rows."""

    ids: list[str]
    persons: list[str | None]
    pinned: list[bool]
    matrix: Any  # numpy float32, one unit row per face
