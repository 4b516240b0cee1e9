"""What the models see in a photo: faces, tags, and an embedding for likeness."""

from __future__ import annotations

from dataclasses import dataclass, field

LIKENESS = "likeness"  # the classifier's pooled features: photos that look alike
CLIP = "clip"  # a CLIP model's joint space: photos that match words


@dataclass(frozen=True, slots=True)
class Box:
    """A region of the image, as fractions of its width and height (0..1)."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class DetectedFace:
    box: Box
    landmarks: tuple[tuple[float, float], ...]  # eyes, nose tip, mouth corners (fractions)
    score: float
    embedding: tuple[float, ...]  # unit length
    crop: bytes  # a small upright JPEG of the face, for people lists


@dataclass(frozen=True, slots=True)
class TagGuess:
    tag: str
    confidence: float
    source: str  # the model that saw it


@dataclass(frozen=True, slots=True)
class Analysis:
    faces: list[DetectedFace] = field(default_factory=list)
    tags: list[TagGuess] = field(default_factory=list)
    embedding: tuple[float, ...] = ()  # of the whole photo, unit length
    phash: int | None = None  # 64-bit perceptual hash (DCT), signed, for near-duplicates
    clip: tuple[float, ...] = ()  # in a CLIP model's joint text-image space, when one is set


def best_tags(guesses: list[TagGuess]) -> list[TagGuess]:
    """One guess per tag: the most confident, whichever model made it."""
    best: dict[str, TagGuess] = {}
    for guess in guesses:
        if guess.tag not in best or guess.confidence > best[guess.tag].confidence:
            best[guess.tag] = guess
    return sorted(best.values(), key=lambda guess: -guess.confidence)


@dataclass(frozen=True, slots=True)
class Likeness:
    """A photo's embedding as stored, under its index key, with its perceptual hash."""

    photo_id: str
    key: int
    vector: tuple[float, ...]
    phash: int | None


def hamming(a: int, b: int) -> int:
    """Bits that differ between two 64-bit hashes (stored signed)."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()
