"""``SimilarService``: photos that look alike, and near-duplicates with a keeper to suggest.

Likeness is the cosine similarity of the classifier's pooled features. A near-duplicate is a
photo both very alike in those features and close in perceptual hash: the same picture resized,
recompressed, converted or slightly cropped, or the next frame of a burst. (Two users' copies
of one file are never compared: each sees only their own photos, and one user cannot hold the
same bytes twice.)
"""

from __future__ import annotations

from dataclasses import dataclass

from albumen.domain.analysis import Likeness, hamming
from albumen.domain.errors import Conflict, NotFound
from albumen.domain.photos import Photo
from albumen.ports import AnalysisRepo, PhotoRepo, TextImageEmbedder, VectorIndex
from albumen.services.photos import check_limit

NEAR_LIKENESS = 0.9  # cosine of the pooled features
NEAR_HASH_BITS = 16  # of 64 bits of perceptual hash that may differ
_NEIGHBOURS = 10
# The format of an original ranks above the ones it is usually converted to.
_FORMAT_RANK = {"image/x-": 0, "image/tiff": 1, "image/png": 2, "image/heic": 3, "image/avif": 3}


@dataclass(frozen=True, slots=True)
class Similar:
    photo: Photo
    score: float


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    photos: list[Photo]
    keeper: Photo


class SimilarService:
    def __init__(
        self,
        photos: PhotoRepo,
        analyses: AnalysisRepo,
        index: VectorIndex,
        clip: TextImageEmbedder | None = None,
        clip_index: VectorIndex | None = None,
    ) -> None:
        self._photos = photos
        self._analyses = analyses
        self._index = index
        self._clip = clip
        self._clip_index = clip_index

    def matching(self, owner_id: str, text: str, limit: int) -> list[Similar]:
        """The owner's photos that best match words, through the CLIP model (if one is set)."""
        check_limit(limit)
        if self._clip is None or self._clip_index is None:
            raise Conflict(
                "no CLIP model is set up (ALBUMEN_CLIP_MODEL_DIR)", code="clip_not_configured"
            )
        found = self._clip_index.nearest(owner_id, self._clip.embed_text(text), limit * 2)
        return self._ranked(owner_id, found, None, limit)

    def similar(self, owner_id: str, photo_id: str, limit: int) -> list[Similar]:
        """The owner's photos most like this one, most alike first ([] before analysis)."""
        check_limit(limit)
        if self._photos.get(photo_id, owner_id) is None:
            raise NotFound("no such photo", code="photo_not_found")
        likeness = self._analyses.likeness(photo_id)
        if likeness is None:
            return []
        found = self._index.nearest(owner_id, likeness.vector, limit * 2 + 1)
        return self._ranked(owner_id, found, photo_id, limit)

    def _ranked(
        self, owner_id: str, found: list[tuple[int, float]], exclude: str | None, limit: int
    ) -> list[Similar]:
        """Index answers as the owner's live photos (not ``exclude``), best first."""
        live = self._analyses.photos_of_keys(owner_id, [key for key, _score in found])
        ranked = [(live[key], score) for key, score in found if live.get(key, exclude) != exclude]
        by_id = {p.id: p for p in self._photos.get_many([pid for pid, _ in ranked], owner_id)}
        return [Similar(by_id[pid], score) for pid, score in ranked if pid in by_id][:limit]

    def duplicates(self, owner_id: str) -> list[DuplicateGroup]:
        """Groups of near-duplicates among the owner's photos, each with a keeper."""
        likenesses = {item.key: item for item in self._analyses.likenesses(owner_id)}
        parent = {key: key for key in likenesses}

        def root(key: int) -> int:
            while parent[key] != key:
                parent[key] = parent[parent[key]]
                key = parent[key]
            return key

        for key, item in likenesses.items():
            for other, score in self._index.nearest(owner_id, item.vector, _NEIGHBOURS):
                if other != key and other in likenesses and _near(item, likenesses[other], score):
                    parent[root(other)] = root(key)
        groups: dict[int, list[str]] = {}
        for key, item in likenesses.items():
            groups.setdefault(root(key), []).append(item.photo_id)
        return [self._group(ids, owner_id) for ids in groups.values() if len(ids) > 1]

    def _group(self, ids: list[str], owner_id: str) -> DuplicateGroup:
        members = sorted(self._photos.get_many(ids, owner_id), key=lambda p: p.doc_id, reverse=True)
        return DuplicateGroup(members, min(members, key=_keeper_rank))


def _near(a: Likeness, b: Likeness, score: float) -> bool:
    if score < NEAR_LIKENESS or a.phash is None or b.phash is None:
        return False
    return hamming(a.phash, b.phash) <= NEAR_HASH_BITS


def _keeper_rank(photo: Photo) -> tuple[int, int, int, float]:
    """Largest first, then the original's format, then the most metadata, then the oldest."""
    meta = photo.metadata
    pixels = (meta.width or 0) * (meta.height or 0) if meta else 0
    fmt = next((rank for prefix, rank in _FORMAT_RANK.items() if photo.mime.startswith(prefix)), 5)
    known = 0
    if meta:
        known = sum(x is not None for x in (meta.taken_at, meta.location, meta.camera.model))
    return (-pixels, fmt, -known, photo.created_at.timestamp())
