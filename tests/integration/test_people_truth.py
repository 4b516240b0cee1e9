"""Faces grouped into people on real photos: pairwise precision and recall over labelled people."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from sqlalchemy import select

from albumen.adapters.db.tables import faces
from albumen.app.root import build
from albumen.config import Settings


@pytest.mark.photos
def test_faces_group_into_the_labelled_people(photos_dir: Path, tmp_path: Path) -> None:
    built = build(Settings(data_dir=tmp_path, run_workers_in_server=False))
    owner = built.services.users.add("alice").user.id
    with (photos_dir / "truth.csv").open(newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["kind"] == "face"]
    labelled: dict[str, str] = {}  # photo id -> the one person in it
    for row in rows:
        writer = built.services.photos.stage()
        writer.write((photos_dir / row["filename"]).read_bytes())
        photo = built.services.photos.ingest(owner, row["filename"], writer.finish()).photo
        if ";" not in row["persons"]:
            labelled[photo.id] = row["persons"]
    for _ in range(3):  # processing, then analysis, then grouping
        built.infrastructure.queue.run_pending()
    with built.infrastructure.engine.connect() as conn:
        found = conn.execute(
            select(faces.c.photo_id, faces.c.person_id, faces.c.width * faces.c.height)
        ).all()
    built.close()
    biggest: dict[str, tuple[float, str]] = {}
    for photo_id, person_id, area in found:
        assert person_id is not None  # every face is in a person
        if photo_id in labelled and area > biggest.get(photo_id, (0.0, ""))[0]:
            biggest[photo_id] = (area, person_id)
    assert len(biggest) == len(labelled)  # every labelled photo has its face
    pairs = itertools.combinations(biggest, 2)
    same_label = same_person = both = 0
    for a, b in pairs:
        label = labelled[a] == labelled[b]
        person = biggest[a][1] == biggest[b][1]
        same_label += label
        same_person += person
        both += label and person
    assert both / same_person >= 0.95  # precision: one person's faces are one person
    assert both / same_label >= 0.85  # recall: and they are found together


@pytest.mark.photos
def test_one_users_faces_never_join_anothers_people(photos_dir: Path, tmp_path: Path) -> None:
    built = build(Settings(data_dir=tmp_path, run_workers_in_server=False))
    for name, photo in (("alice", "facerec_obama.jpg"), ("bob", "facerec_obama1.jpg")):
        owner = built.services.users.add(name).user.id
        writer = built.services.photos.stage()
        writer.write((photos_dir / photo).read_bytes())
        built.services.photos.ingest(owner, photo, writer.finish())
    for _ in range(3):
        built.infrastructure.queue.run_pending()
    alice, bob = (built.services.users.by_name(name).id for name in ("alice", "bob"))
    theirs = [{p.id for p in built.services.people.people(user)} for user in (alice, bob)]
    built.close()
    assert all(len(people) == 1 for people in theirs)
    assert not theirs[0] & theirs[1]


@pytest.mark.photos
def test_regrouping_joins_what_one_face_at_a_time_split(photos_dir: Path, tmp_path: Path) -> None:
    """Split every face into a person of its own; regrouping by density brings them back
    together, except what the user placed or named."""
    built = build(Settings(data_dir=tmp_path, run_workers_in_server=False))
    owner = built.services.users.add("alice").user.id
    for photo in ("facerec_obama.jpg", "facerec_obama1.jpg", "facerec_obama2.jpg"):
        writer = built.services.photos.stage()
        writer.write((photos_dir / photo).read_bytes())
        built.services.photos.ingest(owner, photo, writer.finish())
    for _ in range(3):
        built.infrastructure.queue.run_pending()
    with built.infrastructure.engine.connect() as conn:
        face_ids = list(conn.execute(select(faces.c.id)).scalars())
    assert len(face_ids) == 3
    people = built.services.people
    for face_id in face_ids:
        people.move_face(owner, face_id, None)  # the user splits them all
    with built.infrastructure.engine.begin() as conn:
        conn.execute(faces.update().values(pinned=False))  # as if the models had split them
    assert len(people.people(owner)) == 3
    assert people.regroup(owner) == 2
    assert [p.face_count for p in people.people(owner)] == [3]
    people.move_face(owner, face_ids[0], None)  # the user says this one is someone else
    assert people.regroup(owner) == 0
    assert sorted(p.face_count for p in people.people(owner)) == [1, 2]
    built.close()
