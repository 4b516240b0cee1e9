"""Services with in-memory fakes: ingest, processing, thumbnails, sweep, import, users."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from albumen.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Unauthorized,
    Unavailable,
    UnsupportedMedia,
)
from albumen.domain.jobs import JobName, Outcome
from albumen.domain.metadata import Location, PhotoMetadata, TakenAt, file_modified
from albumen.domain.photos import PhotoEdit, PhotoStatus, ThumbFormat, ThumbSize
from albumen.domain.places import Place
from albumen.domain.tiers import PRICES, LifecyclePolicy, Tier
from albumen.domain.users import Account, User, WebSession
from albumen.ports import (
    BlobStore,
    Cache,
    Clock,
    DamagedBlobs,
    Geocoder,
    JobQueue,
    MetadataReader,
    PhotoAccess,
    PhotoRepo,
    StagedFile,
    Thumbnailer,
    TierRepo,
)
from albumen.services.importer import Imported, Importer, Reader
from albumen.services.photos import PhotoService
from albumen.services.processing import ProcessingService, SweepService
from albumen.services.tiers import TierService
from albumen.services.trash import TrashService
from albumen.services.users import UserService
from tests.fakes import (
    FakeAlbums,
    FakeBlobStore,
    FakeCache,
    FakeClock,
    FakeDamagedBlobs,
    FakeGeocoder,
    FakePhotoRepo,
    FakeQueue,
    FakeReader,
    FakeThumbnailer,
    FakeTierRepo,
)

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 100


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    repo: FakePhotoRepo = field(default_factory=FakePhotoRepo)
    queue: FakeQueue = field(default_factory=FakeQueue)
    reader: FakeReader = field(default_factory=FakeReader)
    thumbnailer: FakeThumbnailer = field(default_factory=FakeThumbnailer)
    cache: FakeCache = field(default_factory=FakeCache)
    albums: FakeAlbums = field(default_factory=FakeAlbums)
    geocoder: FakeGeocoder = field(default_factory=FakeGeocoder)
    tiers: FakeTierRepo = field(default_factory=FakeTierRepo)

    def __post_init__(self) -> None:
        self.blobs = FakeBlobStore(self.clock)
        # typed by the ports: mypy checks that every fake fits its protocol
        clock: Clock = self.clock
        repo: PhotoRepo = self.repo
        blobs: BlobStore = self.blobs
        queue: JobQueue = self.queue
        reader: MetadataReader = self.reader
        thumbnailer: Thumbnailer = self.thumbnailer
        cache: Cache = self.cache
        access: PhotoAccess = self.albums
        geocoder: Geocoder = self.geocoder
        tier_repo: TierRepo = self.tiers
        policy = LifecyclePolicy(timedelta(days=30), timedelta(days=180))
        tiers = TierService(tier_repo, {Tier.HOT: blobs}, queue, clock, policy, PRICES)
        damaged: DamagedBlobs = FakeDamagedBlobs()
        self.photos = PhotoService(
            repo, access, blobs, queue, thumbnailer, cache, clock, 10_000, tiers, damaged
        )
        self.processing = ProcessingService(
            repo, blobs, reader, thumbnailer, geocoder, queue, clock
        )
        self.trash = TrashService(
            self.photos, repo, blobs, clock, timedelta(days=30), timedelta(hours=1)
        )

    def staged(self, data: bytes = JPEG) -> StagedFile:
        writer = self.photos.stage()
        writer.write(data)
        return writer.finish()


@pytest.fixture
def world() -> World:
    return World()


def test_ingest_commits_the_blob_and_queues_processing(world: World) -> None:
    result = world.photos.ingest("alice", "../x/IMG.jpg", world.staged())
    assert not result.duplicate
    assert result.photo.filename == "IMG.jpg"
    assert world.blobs.blobs[result.photo.sha256] == JPEG
    assert world.queue.jobs == [(JobName.PROCESS_PHOTO, result.photo.id)]
    assert world.blobs.staged == {}


def test_a_duplicate_stores_nothing_and_queues_nothing(world: World) -> None:
    first = world.photos.ingest("alice", "a.jpg", world.staged())
    again = world.photos.ingest("alice", "b.jpg", world.staged())
    assert again.duplicate
    assert again.photo.id == first.photo.id
    assert len(world.queue.jobs) == 1
    assert world.blobs.staged == {}


def test_not_an_image_leaves_no_staged_bytes(world: World) -> None:
    with pytest.raises(UnsupportedMedia):
        world.photos.ingest("alice", "a.jpg", world.staged(b"just text, really"))
    assert world.blobs.staged == {}
    assert world.repo.photos == {}


def test_processing_makes_the_photo_ready(world: World) -> None:
    taken = TakenAt(datetime(2020, 5, 1, 10, 0), 120, "ExifIFD:DateTimeOriginal")
    world.reader.metadata = PhotoMetadata(width=40, height=30, taken_at=taken)
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    assert world.processing.process_photo(photo.id) is Outcome.DONE
    done = world.repo.photos[photo.id]
    assert done.status is PhotoStatus.READY
    assert done.thumbhash == "hash-of-thumb"
    assert done.sort_at == datetime(2020, 5, 1, 8, 0)  # the UTC instant orders the timeline
    assert {key[1] for key in world.repo.derivatives} == {ThumbSize.THUMB, ThumbSize.PREVIEW}


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device", "/srv/data/blobs/ab/cd/x.tmp"),
        Unavailable("object storage cannot be reached now", code="storage_unavailable"),
    ],
    ids=["disk full", "store away"],
)
def test_a_transient_error_leaves_the_photo_to_be_tried_again_never_failed(
    world: World, error: Exception
) -> None:
    """A full disk (or a store, a database away) is no fault of the photo: it stays pending,
    saying so without the server's paths, and is processed once the fault is gone. (A store
    away, an ``AlbumenError`` like bad media, failed the photo for good.)"""
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    world.reader.error = error
    with pytest.raises(type(error)):
        world.processing.process_photo(photo.id)  # raised: the queue retries it
    waiting = world.repo.photos[photo.id]
    assert waiting.status is PhotoStatus.PENDING
    assert waiting.error is not None
    assert "/srv" not in waiting.error
    world.reader.error = None
    assert world.processing.process_photo(photo.id) is Outcome.DONE
    assert world.repo.photos[photo.id].status is PhotoStatus.READY


def test_a_photo_without_a_date_inside_takes_its_files_and_one_with_a_date_keeps_it(
    world: World,
) -> None:
    """Photos with no date inside piled up on the day of their upload (#16)."""
    sent = file_modified("2015-06-01T12:30:00+02:00", world.clock.now())
    world.reader.metadata = PhotoMetadata(width=4, height=3)  # no date inside
    undated = world.photos.ingest("alice", "scan.jpg", world.staged(), sent).photo
    assert undated.sort_at == datetime(2015, 6, 1, 10, 30)  # in place before it is processed
    world.processing.process_photo(undated.id)
    done = world.repo.photos[undated.id]
    assert done.metadata is not None
    assert done.metadata.taken_at == sent
    assert done.sort_at == datetime(2015, 6, 1, 10, 30)

    inside = TakenAt(datetime(2020, 5, 1, 10, 0), 120, "ExifIFD:DateTimeOriginal")
    world.reader.metadata = PhotoMetadata(width=4, height=3, taken_at=inside)
    dated = world.photos.ingest("alice", "a.jpg", world.staged(JPEG + b"2"), sent).photo
    world.processing.process_photo(dated.id)
    kept = world.repo.photos[dated.id]
    assert kept.metadata is not None
    assert kept.metadata.taken_at == inside  # what the photo says wins
    assert kept.sort_at == datetime(2020, 5, 1, 8, 0)


def test_without_an_offset_the_local_time_orders_and_without_a_date_the_upload(
    world: World,
) -> None:
    local = TakenAt(datetime(2020, 5, 1, 10, 0), None, "ExifIFD:DateTimeOriginal")
    world.reader.metadata = PhotoMetadata(width=4, height=3, taken_at=local)
    dated = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    world.processing.process_photo(dated.id)
    assert world.repo.photos[dated.id].sort_at == datetime(2020, 5, 1, 10, 0)
    world.reader.metadata = PhotoMetadata(width=4, height=3)
    undated = world.photos.ingest("alice", "b.jpg", world.staged(JPEG + b"1")).photo
    world.processing.process_photo(undated.id)
    assert world.repo.photos[undated.id].sort_at == undated.created_at


def test_bad_media_fails_the_photo_with_its_reason(world: World) -> None:
    world.thumbnailer.broken = True
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    assert world.processing.process_photo(photo.id) is Outcome.FAILED
    assert world.repo.photos[photo.id].status is PhotoStatus.FAILED
    assert world.repo.photos[photo.id].error == "cannot decode"
    assert photo.sha256 in world.blobs.blobs  # the original is kept


def test_a_ready_photo_is_skipped(world: World) -> None:
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    world.processing.process_photo(photo.id)
    assert world.processing.process_photo(photo.id) is Outcome.SKIPPED
    assert world.processing.process_photo("no-such-id") is Outcome.SKIPPED
    assert world.thumbnailer.renders == 1


def test_recover_queues_unfinished_photos_again(world: World) -> None:
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    world.queue.jobs.clear()
    assert world.processing.recover() == 1
    assert world.queue.jobs == [(JobName.PROCESS_PHOTO, photo.id)]


def test_thumbnail_is_made_once_then_served_from_memory(world: World) -> None:
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    first = world.photos.thumbnail("alice", photo.id, ThumbSize.THUMB, ThumbFormat.JPEG)
    reads = world.repo.reads
    cached = world.photos.cached_thumbnail(photo.id, ThumbSize.THUMB, ThumbFormat.JPEG)
    assert cached is not None
    assert (cached.found, cached.owner_id) == (first, "alice")
    assert world.repo.reads == reads  # a hit needs no repository read
    assert world.thumbnailer.renders == 1
    with pytest.raises(NotFound):  # someone else's access is checked, cached or not
        world.photos.thumbnail("bob", photo.id, ThumbSize.THUMB, ThumbFormat.JPEG, cached)


def test_a_failed_photo_has_no_thumbnail(world: World) -> None:
    world.thumbnailer.broken = True
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    world.processing.process_photo(photo.id)
    with pytest.raises(Conflict):
        world.photos.thumbnail("alice", photo.id, ThumbSize.THUMB, ThumbFormat.WEBP)


def test_timeline_limit_and_edits_are_checked(world: World) -> None:
    with pytest.raises(InvalidInput):
        world.photos.timeline("alice", 0, None)
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    with pytest.raises(InvalidInput):
        world.photos.edit("alice", photo.id, PhotoEdit(taken_at=datetime(2020, 1, 1)))


def test_trash_hides_from_the_timeline_and_restore_brings_back(world: World) -> None:
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    assert world.trash.trash("alice", [photo.id]) == [photo.id]
    assert world.trash.trash("alice", [photo.id]) == []  # already there
    assert world.photos.timeline("alice", 10, None).photos == []
    world.trash.restore("alice", [photo.id])
    assert [p.id for p in world.photos.timeline("alice", 10, None).photos] == [photo.id]


def test_import_hashes_first_only_when_the_size_is_already_known(world: World) -> None:
    reads: list[str] = []

    def reader(data: bytes, name: str) -> Reader:
        def read() -> Iterator[bytes]:
            reads.append(name)
            yield data

        return read

    importer = Importer(world.photos, "alice")
    assert importer.import_one("a.jpg", len(JPEG), reader(JPEG, "a")).outcome is Imported.IMPORTED
    assert reads == ["a"]  # a new size: one pass
    again = Importer(world.photos, "alice")
    assert again.import_one("a.jpg", len(JPEG), reader(JPEG, "a")).outcome is Imported.DUPLICATE
    assert reads == ["a", "a"]  # a known size: hashed, found, nothing copied
    failed = again.import_one("t.jpg", 5, reader(b"text!", "t"))
    assert failed.outcome is Imported.FAILED
    assert failed.reason


class FakeUsers:
    def __init__(self) -> None:
        self.user = User("u1", "alice", datetime(2026, 1, 1))
        self.keys: dict[str, str] = {}
        self.lookups = 0

    def add(self, name: str, now: datetime, admin: bool = False) -> User:
        return self.user

    def by_name(self, name: str) -> User | None:
        return self.user if name == "alice" else None

    def get(self, user_id: str) -> User | None:
        return self.user if user_id == self.user.id else None

    def accounts(self) -> list[Account]:
        return [Account(self.user, 0, 0, has_password=False)]

    def set_disabled(self, user_id: str, when: datetime | None) -> None:
        self.user = replace(self.user, disabled=when is not None)

    def delete(self, user_id: str) -> None:
        raise AssertionError("not used here")

    def set_admin(self, user_id: str, admin: bool) -> None:
        self.user = replace(self.user, is_admin=admin)

    def add_key(self, user_id: str, key_hash: str, label: str, now: datetime) -> None:
        self.keys[key_hash] = user_id

    def by_key_hash(self, key_hash: str) -> User | None:
        self.lookups += 1
        return self.user if key_hash in self.keys else None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        raise AssertionError("not used here")

    def password_hash(self, name: str) -> tuple[User, str] | None:
        return None

    def add_session(
        self, user_id: str, secret_hash: str, csrf_token: str, now: datetime, expires_at: datetime
    ) -> None:
        raise AssertionError("not used here")

    def session(self, secret_hash: str) -> WebSession | None:
        raise AssertionError("not used here")

    def delete_session(self, secret_hash: str) -> None:
        raise AssertionError("not used here")

    def delete_sessions(self, user_id: str) -> int:
        raise AssertionError("not used here")


class NoLimit:
    def hit(self, key: str) -> bool:
        return True

    def test(self, key: str) -> bool:
        return True


class PlainHasher:
    def hash(self, password: str) -> str:
        return password[::-1]

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == password[::-1]


def test_a_disabled_users_remembered_key_stops_at_once_in_this_process() -> None:
    clock, repo = FakeClock(), FakeUsers()
    users = UserService(repo, PlainHasher(), clock, NoLimit())
    secret = users.add("alice").secret
    users.authenticate(secret)  # remembered now
    admin = replace(repo.user, id="admin", is_admin=True)
    users.manage(admin, repo.user.id, disabled=True)
    assert users.cached_user(secret) is None
    with pytest.raises(Unauthorized, match="disabled"):
        users.authenticate(secret)


def test_known_keys_are_remembered_for_a_minute() -> None:
    clock, repo = FakeClock(), FakeUsers()
    users = UserService(repo, PlainHasher(), clock, NoLimit())
    secret = users.add("alice").secret
    assert users.cached_user(secret) is None
    users.authenticate(secret)
    users.authenticate(secret)
    assert repo.lookups == 1
    clock.advance(seconds=61)
    assert users.cached_user(secret) is None
    users.authenticate(secret)
    assert repo.lookups == 2
    with pytest.raises(Unauthorized):
        users.authenticate("alb_wrong")


def test_sweep_keeps_young_and_referenced_blobs(world: World) -> None:
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    orphan = world.blobs.put_bytes(b"left over")
    world.clock.advance(hours=2)
    young = world.blobs.put_bytes(b"in flight")
    unused: Any = None  # upload expiry is not exercised here
    sweep = SweepService(
        world.repo,
        world.blobs,
        unused,
        unused,
        world.clock,
        grace=timedelta(hours=1),
        upload_expiry=timedelta(days=1),
    )
    assert sweep.sweep_blobs() == 1
    assert set(world.blobs.blobs) == {photo.sha256, young}
    assert orphan not in world.blobs.blobs


def test_processing_names_the_place_and_takes_the_offset_of_its_time_zone() -> None:
    paris = Place("Paris", "Île-de-France", "France", "FR")
    reader = FakeReader(
        PhotoMetadata(
            width=4,
            height=3,
            taken_at=TakenAt(datetime(2020, 7, 1, 12, 0), None, "ExifIFD:DateTimeOriginal"),
            location=Location(48.85, 2.35),
        )
    )
    world = World(reader=reader, geocoder=FakeGeocoder(paris, "Europe/Paris"))
    photo = world.photos.ingest("alice", "a.jpg", world.staged()).photo
    world.processing.process_photo(photo.id)
    done = world.repo.photos[photo.id]
    assert done.place == paris
    assert done.metadata is not None
    assert done.metadata.taken_at is not None
    assert done.metadata.taken_at.offset_minutes == 120  # summer time in Paris
    assert done.sort_at == datetime(2020, 7, 1, 10, 0)
