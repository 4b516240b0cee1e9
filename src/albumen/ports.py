"""Protocols for every boundary. Services see only these; adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from albumen.domain.albums import Album, AlbumEdit, AlbumOrder, AlbumRole, Member, ShareLink
from albumen.domain.analysis import Analysis, Likeness
from albumen.domain.durability import (
    BackupManifest,
    BlobHolder,
    DatabaseSnapshot,
    SidecarKind,
    TableCount,
)
from albumen.domain.jobs import JobName, Outcome, QueueStats, Schedule
from albumen.domain.maps import CellRange, Cluster
from albumen.domain.media import MediaType
from albumen.domain.memories import DayAway
from albumen.domain.metadata import PhotoMetadata, TakenAt
from albumen.domain.monitoring import Alert
from albumen.domain.people import Face, FaceSet, Person
from albumen.domain.photos import (
    Derivative,
    NewPhoto,
    Page,
    Photo,
    PhotoEdit,
    PhotoStatus,
    Purged,
    Rendition,
    ThumbFormat,
    ThumbSize,
    TimelineCursor,
)
from albumen.domain.places import Place
from albumen.domain.search import Box, SearchFilters, SearchOrder, Suggestion
from albumen.domain.tiers import Retrieval, Tier, TierUsage
from albumen.domain.users import Account, User, WebSession


class Processes(Protocol):
    def me(self) -> str:
        """This process, as a claim names it (host, process id, start time)."""
        ...

    def gone(self, claimer: str) -> bool:
        """Whether the process a claim names is known to have ended (on this host)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time in UTC, naive."""
        ...


@dataclass(frozen=True, slots=True)
class StagedFile:
    """Bytes written durably to a staging path, with what was learnt while writing them."""

    path: Path
    sha256: str
    size: int
    head: bytes


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """One blob as its store lists it."""

    sha256: str
    size: int
    modified: datetime  # naive UTC, last written


class StagingWriter(Protocol):
    def write(self, chunk: bytes) -> None: ...

    def finish(self) -> StagedFile:
        """fsync and close; the file stays until committed or discarded."""
        ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    def stage(self, max_bytes: int) -> StagingWriter: ...

    def stage_existing(self, path: Path) -> StagedFile:
        """Hash a file that already sits in the staging area (a finished resumable upload)."""
        ...

    def commit(self, staged: StagedFile) -> None:
        """Store staged bytes under their hash, atomically; verify; remove the staged file."""
        ...

    def put_bytes(self, data: bytes) -> str:
        """Store small bytes (a thumbnail) under their hash and return it."""
        ...

    def discard(self, staged: StagedFile) -> None: ...

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int: ...

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive); the whole blob by default."""
        ...

    def iter_range(self, sha256: str, start: int, end: int) -> Iterator[bytes]: ...

    def local_path(self, sha256: str) -> Path:
        """A local file holding the blob (fetched to a cache for remote stores)."""
        ...

    def verify(self, sha256: str) -> bool: ...

    def hash_of(self, sha256: str) -> str:
        """The SHA-256 of the bytes stored under ``sha256`` now (they differ when corrupt)."""
        ...

    def put_file(self, source: Path, sha256: str, *, replace: bool = False) -> int:
        """Copy a file in under ``sha256``, verified; ``replace`` overwrites a bad copy."""
        ...

    def scan(self) -> Iterator[StoredBlob]:
        """Every blob, in hash order."""
        ...

    def check(self) -> None:
        """Raises unless the store can take a write now."""
        ...

    def thaw(self, sha256: str) -> bool:
        """Whether the blob can be read now; an archived one (S3 Glacier) is asked back."""
        ...

    def copy_from(self, source: BlobStore, sha256: str) -> bool:
        """Copy a blob from ``source`` without its bytes passing through this process (S3's
        server-side copy, between buckets of one endpoint); ``False`` where this store cannot,
        and the caller copies it the usual way."""
        ...

    def presigned_url(self, sha256: str, filename: str, mime: str, seconds: int) -> str | None:
        """A URL that reads the blob without Albumen for ``seconds``; ``None`` where the store
        has no such thing (a folder)."""
        ...

    def delete(self, sha256: str, older_than: datetime | None = None) -> bool:
        """Remove a blob (only if last written before ``older_than``, when given)."""
        ...

    def discard_stale_staging(self, cutoff: datetime) -> int: ...

    def list_older_than(self, cutoff: datetime) -> Iterator[str]:
        """Hashes of blobs last written before ``cutoff``."""
        ...


class LibraryCopy(Protocol):
    """Rows of one library's database copied into another's (``albumen migrate-to``)."""

    def tables(self) -> list[str]: ...

    def copy_table(self, name: str, progress: Callable[[int], None] | None = None) -> int:
        """Copy the rows the target lacks; how many were read."""
        ...

    def counts(self) -> list[TableCount]: ...

    def album_counts_agree(self) -> bool: ...


class BlobReferences(Protocol):
    """What the database says about blobs, for scrubs, backups and restores."""

    def hashes(self, after: str, limit: int) -> list[str]:
        """Distinct referenced hashes past ``after``, in order (``""``: from the first)."""
        ...

    def holders(self, sha256: str) -> list[BlobHolder]: ...

    def forget_derivatives(self, sha256: str) -> int:
        """Drop thumbnail records whose bytes are lost: they are made again when asked for."""
        ...

    def row_counts(self) -> dict[str, int]:
        """Rows per table."""
        ...


class DamagedBlobs(Protocol):
    """Blobs known not to match their hash (a read or a scrub found it), until one is whole."""

    def mark(self, sha256: str, found_by: str, now: datetime) -> None: ...

    def clear(self, sha256: str) -> None: ...

    def is_damaged(self, sha256: str) -> bool: ...

    def all(self) -> set[str]: ...


class DatabaseSnapshots(Protocol):
    """Consistent, checked copies of the database."""

    def snapshot(self, dest: Path) -> DatabaseSnapshot:
        """A consistent copy at ``dest`` (which must not exist), checked."""
        ...

    def check(self, path: Path) -> DatabaseSnapshot:
        """``IntegrityError`` unless the copy is whole."""
        ...

    def live(self) -> dict[str, int]:
        """Rows per table of the database in use."""
        ...

    def references(self, path: Path) -> tuple[BlobReferences, Any]:
        """The blobs a copy refers to, and a handle to ``dispose()`` when done."""
        ...

    def is_empty(self) -> bool: ...

    def install(self, source: Path) -> None:
        """Make a checked copy the database; ``Conflict`` where a library already is."""
        ...


class BackupArchive(Protocol):
    """Where backups go: snapshots of the database sharing one content-addressed blob store."""

    @property
    def blobs(self) -> BlobStore: ...

    def names(self) -> list[str]: ...

    def start(self, name: str) -> Path: ...

    def database_path(self, name: str) -> Path: ...

    def write_blob_list(self, name: str, blobs: Iterable[tuple[str, int]]) -> None: ...

    def blob_list(self, name: str) -> Iterator[tuple[str, int]]: ...

    def keep_secret(self, name: str, source: Path) -> None: ...

    def secret_path(self, name: str) -> Path | None: ...

    def complete(self, manifest: BackupManifest) -> None: ...

    def manifest(self, name: str) -> BackupManifest: ...


class SidecarRepo(Protocol):
    """The database side of metadata sidecars."""

    def pending(self, limit: int) -> list[tuple[SidecarKind, str, int]]:
        """Records changed since their sidecar was written: (kind, id, version)."""
        ...

    def written(self, done: Iterable[tuple[SidecarKind, str, int]]) -> None: ...

    def document(self, kind: SidecarKind, record_id: str) -> bytes | None:
        """The record's sidecar now; ``None`` when it is gone."""
        ...

    def is_empty(self) -> bool: ...

    def restore(self, kind: SidecarKind, documents: Iterable[bytes]) -> int:
        """Insert the records these sidecars describe."""
        ...


class SidecarStore(Protocol):
    """Where sidecars are kept: beside the blobs, in every copy of the store."""

    def put(self, kind: SidecarKind, record_id: str, document: bytes) -> None: ...

    def delete(self, kind: SidecarKind, record_id: str) -> None: ...

    def scan(self, kind: SidecarKind) -> Iterator[tuple[str, bytes]]:
        """(record id, sidecar) of every record of a kind."""
        ...


class TierRepo(Protocol):
    """Which tier each original is in, its last read, moves in progress, retrievals."""

    def tier(self, sha256: str) -> Tier | None: ...

    def read(self, sha256: str, now: datetime) -> None: ...

    def unread_since(self, tier: Tier, before: datetime, limit: int) -> list[str]: ...

    def read_since(self, tier: Tier, since: datetime, limit: int) -> list[str]: ...

    def start_move(self, sha256: str, to: Tier) -> None: ...

    def finish_move(self, sha256: str, to: Tier, now: datetime) -> None: ...

    def forget(self, sha256: str) -> None: ...

    def moving(self, limit: int) -> list[tuple[str, Tier]]: ...

    def count_retrieval(self, owner_id: str, tier: Tier, size: int, now: datetime) -> None: ...

    def usage(self) -> list[TierUsage]: ...

    def retrievals(self, since_month: str) -> list[Retrieval]: ...


class PhotoRepo(Protocol):
    def add(self, new: NewPhoto, now: datetime) -> tuple[Photo, bool]:
        """Insert, or return the owner's existing photo with the same hash (``True`` if new)."""
        ...

    def get(self, photo_id: str, owner_id: str | None = None) -> Photo | None:
        """A photo, or ``None`` if missing or (when ``owner_id`` is given) someone else's."""
        ...

    def get_many(self, photo_ids: Sequence[str], owner_id: str) -> list[Photo]:
        """The owner's photos among these ids, in no particular order."""
        ...

    def find_by_hash(self, owner_id: str, sha256: str) -> Photo | None: ...

    def sizes(self, owner_id: str) -> set[int]: ...

    def page(self, owner_id: str, limit: int, after: TimelineCursor | None) -> Page:
        """The timeline: neither trashed nor archived, newest first."""
        ...

    def trash_page(self, owner_id: str, limit: int, after: TimelineCursor | None) -> Page: ...

    def set_status(self, photo_id: str, status: PhotoStatus, error: str | None = None) -> None: ...

    def claim(
        self, photo_id: str, now: datetime, stale_before: datetime, claimer: str = ""
    ) -> bool:
        """Move a pending or failed photo, or one whose processing claim is older than
        ``stale_before``, to processing, claimed ``now`` by ``claimer``; ``False`` if it is
        ready, gone, or being processed under a live claim."""
        ...

    def claimers(self) -> set[str]:
        """The workers that hold claims on photos being processed."""
        ...

    def release(self, claimers: Sequence[str]) -> int:
        """Put the photos these (gone) workers were processing back to pending."""
        ...

    def save_metadata(
        self, photo_id: str, metadata: PhotoMetadata, sort_at: datetime, place: Place | None
    ) -> None: ...

    def set_place(self, photo_id: str, place: Place | None) -> None: ...

    def unplaced(self, limit: int) -> list[Photo]:
        """Photos with a position but no place name."""
        ...

    def finish(self, photo_id: str, thumbhash: str | None, derivatives: list[Derivative]) -> None:
        """Record thumbnails and mark ready, in one transaction."""
        ...

    def edit(self, photo_ids: Sequence[str], edit: PhotoEdit, sort_at: datetime | None) -> None: ...

    def set_deleted(self, photo_ids: Sequence[str], deleted_at: datetime | None) -> list[str]:
        """Trash (or restore, with ``None``) photos; the ids whose state changed."""
        ...

    def trashed_before(self, cutoff: datetime, limit: int) -> list[str]: ...

    def purge(self, photo_ids: Sequence[str], owner_id: str | None = None) -> Purged:
        """Delete for good those of these photos that are in the trash."""
        ...

    def add_derivative(self, derivative: Derivative) -> None: ...

    def derivative(self, photo_id: str, size: ThumbSize, fmt: ThumbFormat) -> Derivative | None: ...

    def derivative_hashes(
        self, photo_ids: Sequence[str], fmt: ThumbFormat
    ) -> dict[tuple[str, ThumbSize], str]: ...

    def referenced(self, hashes: list[str]) -> set[str]:
        """Which of these blob hashes a photo or derivative still refers to."""
        ...

    def unfinished(self, before: datetime | None = None, pending: bool = True) -> list[str]:
        """Ids of photos whose processing has not ended (pending or processing); with
        ``before``, only those uploaded (pending) or claimed (processing) before then;
        without ``pending``, only those being processed."""
        ...

    def failures(self, owner_id: str, limit: int) -> list[Photo]: ...

    def status_counts(self, owner_id: str) -> dict[PhotoStatus, int]: ...

    def failed(self, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` failed photos of every user, and how many there are."""
        ...


class PhotoAccess(Protocol):
    def member_can_view(self, user_id: str, photo_id: str) -> bool:
        """Whether an album shared with the user holds the photo."""
        ...


class AlbumRepo(PhotoAccess, Protocol):
    def add(self, album: Album) -> None: ...

    def get(self, album_id: str) -> Album | None: ...

    def role(self, user_id: str, album_id: str) -> AlbumRole | None: ...

    def visible(self, user_id: str, with_totals: bool) -> list[Album]: ...

    def find(self, user_id: str, name_or_id: str) -> str | None: ...

    def children(self, album_id: str) -> list[Album]: ...

    def ancestors(self, album_id: str) -> list[Album]: ...

    def subtree(self, album_id: str) -> list[str]: ...

    def total_count(self, album_id: str) -> int: ...

    def edit(self, album_id: str, edit: AlbumEdit, now: datetime) -> None: ...

    def delete(self, album_id: str) -> None: ...

    def add_photos(
        self, album_id: str, photo_ids: Sequence[str], user_id: str, now: datetime
    ) -> list[str]: ...

    def remove_photos(
        self, album_id: str, photo_ids: Sequence[str], added_by: str | None, now: datetime
    ) -> list[str]: ...

    def move_photos(self, album_id: str, photo_ids: Sequence[str], before: str | None) -> list[str]:
        """Reorder; nothing moves when some ids are not in the album: those are returned."""
        ...

    def photos_page(
        self,
        album_ids: Sequence[str],
        order: AlbumOrder,
        limit: int,
        after: TimelineCursor | None,
        within: Box | None = None,
    ) -> Page:
        """Photos (not trashed) of these albums; ``within`` keeps those located in the box."""
        ...

    def of_photo(self, user_id: str, photo_id: str) -> list[Album]: ...

    def holds(self, album_id: str, photo_id: str) -> bool: ...

    def members(self, album_id: str) -> list[Member]: ...

    def set_member(self, album_id: str, user_id: str, role: AlbumRole, now: datetime) -> None: ...

    def remove_member(self, album_id: str, user_id: str) -> bool: ...


class MapIndex(Protocol):
    def clusters(self, owner_id: str, cells: CellRange) -> list[Cluster]:
        """The owner's timeline (not trashed, not archived) in these cells, one cluster each."""
        ...

    def album_clusters(self, album_ids: Sequence[str], cells: CellRange) -> list[Cluster]:
        """The photos (not trashed) of these albums in these cells, one cluster each."""
        ...

    def photo_ids(self, doc_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """The photo id and thumbhash of each ``doc_id``."""
        ...


class MemoryRepo(Protocol):
    def days_on(self, owner_id: str, month: int, day: int) -> list[tuple[date, int]]:
        """The timeline's photos per day on this month and day, every year."""
        ...

    def count_between(self, owner_id: str, start: date, end: date) -> int: ...

    def home(self, owner_id: str) -> tuple[float, float] | None:
        """Where most of the owner's located photos were taken, if any are."""
        ...

    def located_days(self, owner_id: str, start: date, end: date) -> list[DayAway]: ...

    def places_between(self, owner_id: str, start: date, end: date) -> dict[str, int]:
        """Place names of the timeline's photos of these local days, and how many each."""
        ...

    def covers(
        self, owner_id: str, spans: Sequence[tuple[date, date]], limit: int
    ) -> list[list[str]]:
        """For each span of local days, the photos to show for it, the best first."""
        ...

    def photos_page(
        self, owner_id: str, start: date, end: date, limit: int, after: TimelineCursor | None
    ) -> Page:
        """The timeline's photos of these local days, newest first."""
        ...

    def hidden(self, owner_id: str) -> set[str]: ...

    def hide(self, owner_id: str, key: str, now: datetime) -> None: ...

    def show(self, owner_id: str, key: str) -> None: ...


class ShareRepo(Protocol):
    def add(self, link: ShareLink, token_hash: str, password_hash: str | None) -> None: ...

    def by_token_hash(self, token_hash: str) -> tuple[ShareLink, str | None] | None: ...

    def by_id(self, link_id: str) -> ShareLink | None: ...

    def of_owner(self, owner_id: str) -> list[ShareLink]: ...

    def delete(self, link_id: str, owner_id: str) -> bool: ...


class SearchIndex(Protocol):
    def search(
        self,
        owner_id: str,
        filters: SearchFilters,
        album_ids: Sequence[str] | None,
        order: SearchOrder,
        limit: int,
        after: TimelineCursor | None,
        count_cap: int = 0,
    ) -> tuple[Page, int | None]:
        """A page, and how many match (up to ``count_cap``) when asked and there are more."""
        ...

    def buckets(
        self,
        owner_id: str,
        filters: SearchFilters | None,
        album_ids: Sequence[str] | None,
        by_day: bool,
    ) -> list[tuple[str, int]]: ...

    def suggest(self, owner_id: str, prefix: str, limit: int) -> list[Suggestion]:
        """What the owner's library has that a word starting with ``prefix`` may mean."""
        ...


class Geocoder(Protocol):
    def place(self, lat: float, lon: float) -> Place | None:
        """The nearest named place, from data on disk (never the network)."""
        ...

    def timezone(self, lat: float, lon: float) -> str | None:
        """The IANA time zone at a position (``None`` at sea, far from any)."""
        ...


class PhotoAnalyzer(Protocol):
    version: str  # changes when a model does: photos analysed by another version are redone

    def analyze(self, image: bytes) -> Analysis:
        """Faces, tags and an embedding of an encoded image. Raises ``CorruptMedia``."""
        ...


class TextImageEmbedder(Protocol):
    """A CLIP-like model: images and words in one space."""

    version: str

    def embed_image(self, image: bytes) -> tuple[float, ...]: ...

    def embed_text(self, text: str) -> tuple[float, ...]: ...


class AnalysisRepo(Protocol):
    def save(
        self,
        photo_id: str,
        owner_id: str,
        version: str,
        analysis: Analysis,
        crops: list[str | None],
        now: datetime,
    ) -> None: ...

    def fail(self, photo_id: str, version: str, error: str) -> None: ...

    def unanalysed(self, version: str, everything: bool, limit: int) -> list[str]: ...

    def likeness(self, photo_id: str) -> Likeness | None: ...

    def likenesses(self, owner_id: str) -> list[Likeness]: ...

    def photos_of_keys(self, owner_id: str, keys: list[int]) -> dict[int, str]: ...


class Locks(Protocol):
    def hold(self, name: str) -> AbstractContextManager[None]:
        """Held by one caller at a time (in every process that shares it); others wait."""
        ...


class VectorIndex(Protocol):
    def nearest(self, owner_id: str, vector: tuple[float, ...], k: int) -> list[tuple[int, float]]:
        """Keys of the owner's nearest embeddings and their cosine similarity, best first."""
        ...


class PeopleRepo(Protocol):
    def faces(self, owner_id: str) -> FaceSet: ...

    def owners(self) -> list[str]: ...

    def group(
        self,
        owner_id: str,
        assignments: dict[str, str],
        new_people: dict[str, str],
        now: datetime,
    ) -> None: ...

    def people(self, owner_id: str, person_id: str | None = None) -> list[Person]: ...

    def edit(
        self, owner_id: str, person_id: str, name: str | None, hidden: bool | None
    ) -> None: ...

    def merge(self, owner_id: str, into: str, others: Sequence[str]) -> None: ...

    def move_face(
        self, owner_id: str, face_id: str, person_id: str | None, now: datetime
    ) -> str: ...

    def face(self, owner_id: str, face_id: str) -> Face | None: ...

    def faces_of_photo(self, photo_id: str) -> list[Face]: ...

    def faces_of_person(
        self, owner_id: str, person_id: str, limit: int, after: str | None
    ) -> list[Face]: ...

    def photos_page(
        self, owner_id: str, person_id: str, limit: int, after: TimelineCursor | None
    ) -> Page: ...


class RateLimiter(Protocol):
    def hit(self, key: str) -> bool:
        """Count one attempt; ``False`` once ``key`` has used up its attempts for now."""
        ...

    def test(self, key: str) -> bool:
        """Whether ``key`` has an attempt left, without using it."""
        ...


class UserRepo(Protocol):
    def add(self, name: str, now: datetime, admin: bool = False) -> User:
        """A new user; the first one ever is an admin whatever ``admin`` says."""
        ...

    def by_name(self, name: str) -> User | None: ...

    def get(self, user_id: str) -> User | None: ...

    def accounts(self) -> list[Account]:
        """Every user, with what they keep here."""
        ...

    def set_disabled(self, user_id: str, when: datetime | None) -> None:
        """Disable (signing them out everywhere) or enable again (``None``)."""
        ...

    def delete(self, user_id: str) -> None:
        """The user and everything theirs, in one transaction."""
        ...

    def set_admin(self, user_id: str, admin: bool) -> None: ...

    def add_key(self, user_id: str, key_hash: str, label: str, now: datetime) -> None: ...

    def by_key_hash(self, key_hash: str) -> User | None: ...

    def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    def password_hash(self, name: str) -> tuple[User, str] | None: ...

    def add_session(
        self, user_id: str, secret_hash: str, csrf_token: str, now: datetime, expires_at: datetime
    ) -> None: ...

    def session(self, secret_hash: str) -> WebSession | None:
        """The session with that hash, expired or not."""
        ...

    def delete_session(self, secret_hash: str) -> None: ...

    def delete_sessions(self, user_id: str) -> int:
        """Sign a user out everywhere; how many sessions ended."""
        ...


@dataclass(frozen=True, slots=True)
class Upload:
    """A resumable (tus) upload in progress."""

    id: str
    owner_id: str
    length: int
    offset: int
    filename: str
    created_at: datetime
    photo_id: str | None = None
    file_modified: TakenAt | None = None  # for the photo it becomes


class UploadRepo(Protocol):
    def add(self, upload: Upload) -> None: ...

    def get(self, upload_id: str, owner_id: str) -> Upload | None: ...

    def claim(
        self,
        upload_id: str,
        offset: int,
        writer: str,
        until: datetime,
        now: datetime,
        lapsed: Callable[[str], bool],
    ) -> bool:
        """Make ``writer`` the one request writing to the upload, if it is at ``offset``
        without a photo and nobody else holds it (no claim, a lapsed one, or one whose holder
        ``lapsed`` says has ended)."""
        ...

    def renew(self, upload_id: str, writer: str, until: datetime) -> bool: ...

    def advance(self, upload_id: str, writer: str, offset: int) -> bool: ...

    def release(
        self, upload_id: str, writer: str, offset: int, photo_id: str | None = None
    ) -> bool:
        """The offset (and the photo) ``writer`` leaves, and its claim ended, in one step;
        each of these is ``False`` when the claim was no longer ``writer``'s."""
        ...

    def stranded(self) -> list[Upload]:
        """Uploads that have every byte and no photo."""
        ...

    def delete(self, upload_id: str) -> None: ...

    def older_than(self, cutoff: datetime) -> list[Upload]: ...


class PartWriter(Protocol):
    written: int

    def write(self, chunk: bytes) -> None: ...

    def abandon(self) -> None:
        """Stop without touching the file again (another request writes to it now)."""
        ...

    def digest(self) -> bytes | None:
        """The digest of what was written (``None`` when no algorithm was asked for)."""
        ...

    def commit(self) -> int:
        """fsync; return the new end of the upload."""
        ...

    def rollback(self) -> None: ...


class UploadParts(Protocol):
    """Partial bytes of resumable uploads, kept where the blob store can commit them."""

    def create(self, upload_id: str) -> None: ...

    def writer(self, upload_id: str, offset: int, algorithm: str | None) -> PartWriter:
        """Append from ``offset`` (anything beyond it is cut off first), hashing with
        ``algorithm`` (a hashlib name) when given."""
        ...

    def path(self, upload_id: str) -> Path: ...

    def link(self, upload_id: str) -> Path:
        """A second name for a complete part, in the staging folder, for the blob store to
        take as it takes any staged file: the part itself stays until its photo is recorded."""
        ...

    def remove(self, upload_id: str) -> None: ...


class MetadataReader(Protocol):
    def read(self, path: Path, media: MediaType) -> PhotoMetadata:
        """Raises ``CorruptMedia`` when the file cannot be parsed at all."""
        ...


class Thumbnailer(Protocol):
    def render(
        self, path: Path, media: MediaType, sizes: list[ThumbSize], fmt: ThumbFormat
    ) -> list[Rendition]:
        """Encode each size, oriented, in sRGB, metadata stripped. Raises ``CorruptMedia``."""
        ...

    def placeholder(self, rendition: Rendition) -> str:
        """A ThumbHash (base64) of a rendition."""
        ...


class Cache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def has(self, key: str) -> bool:
        """Whether the key is held (not counted as a read)."""
        ...

    def set(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


class TunableCache(Protocol):
    """A cache level the optimizer may resize, or whose entries' lifetime it may change."""

    level: str

    def capacity(self) -> int: ...

    def resize(self, max_bytes: int) -> None: ...

    @property
    def ttl_seconds(self) -> int | None:
        """How long entries live; ``None`` when they stay until evicted."""
        ...

    def set_ttl(self, seconds: int) -> None: ...


class AlertNotifier(Protocol):
    def send(self, fired: list[Alert], resolved: list[Alert], now: datetime) -> None:
        """Deliver in the background (retrying); never block the caller."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class JobQueue(Protocol):
    def register(
        self,
        job: JobName,
        handler: Callable[[str], Outcome],
        retries: int,
        schedule: Schedule | None = None,
    ) -> None:
        """Make ``handler`` what runs ``job`` (retried), and also on ``schedule`` if given."""
        ...

    def enqueue(self, job: JobName, arg: str = "") -> None: ...

    def stats(self) -> QueueStats: ...

    def run_pending(self) -> int:
        """Run what is queued, here and now, until every queue is empty; how many ran."""
        ...
