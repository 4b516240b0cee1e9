"""The models on real photos, as the pipeline runs them: on the 1440 px WebP preview."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import pytest

from albumen.adapters.media import VipsThumbnailer
from albumen.adapters.ml import OpenCvAnalyzer
from albumen.domain.analysis import Analysis
from albumen.domain.errors import AlbumenError
from albumen.domain.media import sniff
from albumen.domain.photos import ThumbFormat, ThumbSize

MIN_TAG_RECALL = 0.8


@cache
def _analyzer() -> OpenCvAnalyzer:
    return OpenCvAnalyzer()


def _analysis(path: Path) -> Analysis | None:
    try:
        media = sniff(path.read_bytes()[:64], path.name)
        preview = VipsThumbnailer(250_000_000).render(
            path, media, [ThumbSize.PREVIEW], ThumbFormat.WEBP
        )[0]
    except AlbumenError:
        return None
    return _analyzer().analyze(preview.data)


def _rows(photos_dir: Path, kind: str) -> list[dict[str, str]]:
    with (photos_dir / "truth.csv").open(newline="") as file:
        return [row for row in csv.DictReader(file) if row["kind"] == kind]


@pytest.mark.photos
def test_tags_name_the_labelled_objects_in_everyday_words(photos_dir: Path) -> None:
    found = wanted = 0
    misses = []
    for row in _rows(photos_dir, "object"):
        analysis = _analysis(photos_dir / row["filename"])
        tags = {guess.tag for guess in analysis.tags} if analysis else set()
        for label in row["label"].split(";"):
            wanted += 1
            found += label in tags
            if label not in tags:
                misses.append(f"{row['filename']}: {label}")
    assert wanted >= 30
    assert found / wanted >= MIN_TAG_RECALL, misses


@pytest.mark.photos
def test_every_labelled_face_is_found(photos_dir: Path) -> None:
    missed = []
    for row in _rows(photos_dir, "face"):
        analysis = _analysis(photos_dir / row["filename"])
        people = len(row["persons"].split(";"))
        if analysis is None or len(analysis.faces) < people:
            missed.append(row["filename"])
        for face in analysis.faces if analysis else []:
            assert len(face.embedding) == 128
            assert abs(sum(v * v for v in face.embedding) - 1) < 1e-6
            assert face.crop.startswith(b"\xff\xd8")  # a JPEG
    assert missed == []


@pytest.mark.photos
def test_puppies_are_not_people(photos_dir: Path) -> None:
    analysis = _analysis(photos_dir / "pillow_app13-multiple.jpg")
    assert analysis is not None
    assert analysis.faces == []
    assert "dog" in {guess.tag for guess in analysis.tags}
