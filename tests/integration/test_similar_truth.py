"""Likeness on real photos: the same picture in other formats is found and grouped, and no
two different pictures are taken for duplicates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from albumen.app.root import Albumen, build
from albumen.config import Settings

HOPPER = [
    "pillow_hopper.jpg",
    "pillow_hopper.bmp",
    "pillow_hopper.gif",
    "pillow_hopper.tif",
    "pillow_hopper_orientation_6.webp",
]
OTHERS = [
    "immich_portrait.jpg",
    "immich_portrait-orientation-6.jpg",
    "skimage_astronaut.png",
    "skimage_chelsea.png",
    "darknet_dog.jpg",
    "facerec_obama.jpg",
    "immich_tanners_ridge.jpg",
]


@pytest.fixture(scope="module")
def library(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Albumen, str, dict[str, str]]]:
    shared = Path(__file__).resolve().parents[3] / "shared" / "photos"
    if not (shared / "truth.csv").is_file():
        pytest.skip("../shared/photos is not beside this clone (real camera files)")
    built = build(
        Settings(data_dir=tmp_path_factory.mktemp("similar"), run_workers_in_server=False)
    )
    owner = built.services.users.add("alice").user.id
    names: dict[str, str] = {}
    for name in HOPPER + OTHERS:
        writer = built.services.photos.stage()
        writer.write((shared / name).read_bytes())
        names[built.services.photos.ingest(owner, name, writer.finish()).photo.id] = name
    for _ in range(3):
        built.infrastructure.queue.run_pending()
    yield built, owner, names
    built.close()


def _source(name: str) -> str:
    """The picture a file shows: its name without format, orientation or series number."""
    stem = name.rsplit(".", 1)[0]
    return re.sub(r"([-_]orientation[-_]\d|_\d+)$", "", stem)


@pytest.mark.photos
def test_the_same_picture_in_other_formats_is_most_alike(
    library: tuple[Albumen, str, dict[str, str]],
) -> None:
    built, owner, names = library
    jpeg = next(pid for pid, name in names.items() if name == "pillow_hopper.jpg")
    found = built.services.similar.similar(owner, jpeg, 4)
    assert {names[s.photo.id] for s in found} == set(HOPPER) - {"pillow_hopper.jpg"}
    assert all(s.score > 0.9 for s in found)


@pytest.mark.photos
def test_duplicates_group_copies_and_nothing_else(
    library: tuple[Albumen, str, dict[str, str]],
) -> None:
    built, owner, names = library
    groups = built.services.similar.duplicates(owner)
    named = [sorted(names[p.id] for p in group.photos) for group in groups]
    assert sorted(HOPPER) in named
    for group in named:
        assert len({_source(name) for name in group}) == 1, group  # never two pictures
    hopper = next(g for g in groups if names[g.keeper.id].startswith("pillow_hopper"))
    assert names[hopper.keeper.id] == "pillow_hopper.tif"  # as large as any, lossless original
