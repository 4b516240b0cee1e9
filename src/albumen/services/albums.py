"""``AlbumService``: albums inside albums, their photos, and the users they are shared with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from albumen.domain import limits
from albumen.domain.albums import Album, AlbumEdit, AlbumOrder, AlbumRole, Member
from albumen.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from albumen.domain.photos import Page, Photo, TimelineCursor
from albumen.domain.search import Box
from albumen.ports import AlbumRepo, Clock, UserRepo
from albumen.services.photos import PhotoService, check_limit

PAGE = 500  # photos read at a time for a download


@dataclass(frozen=True, slots=True)
class AlbumView:
    album: Album
    path: list[Album]  # from the top down to the parent
    children: list[Album]
    members: list[Member]


class AlbumService:
    def __init__(
        self, albums: AlbumRepo, photos: PhotoService, users: UserRepo, clock: Clock
    ) -> None:
        self._albums = albums
        self._photos = photos
        self._users = users
        self._clock = clock

    def create(
        self,
        user_id: str,
        name: str,
        description: str | None = None,
        parent_id: str | None = None,
        order: AlbumOrder = AlbumOrder.NEWEST,
    ) -> Album:
        if parent_id is not None:
            self._album(user_id, parent_id, AlbumRole.OWNER)
        now = self._clock.now()
        album = Album(
            id=str(uuid.uuid4()),
            owner_id=user_id,
            parent_id=parent_id,
            name=_name(name),
            description=description,
            cover_photo_id=None,
            order=order,
            created_at=now,
            updated_at=now,
        )
        self._albums.add(album)
        return album

    def visible(self, user_id: str, with_totals: bool = False) -> list[Album]:
        return self._albums.visible(user_id, with_totals)

    def view(self, user_id: str, album_id: str, with_totals: bool = False) -> AlbumView:
        album = self._album(user_id, album_id, AlbumRole.VIEWER)
        if with_totals:
            album = replace(album, total_count=self._albums.total_count(album_id))
        return AlbumView(
            album=album,
            path=self._albums.ancestors(album_id),
            children=self._albums.children(album_id),
            members=self._albums.members(album_id),
        )

    def edit(self, user_id: str, album_id: str, edit: AlbumEdit) -> Album:
        self._album(user_id, album_id, AlbumRole.OWNER)
        if edit.name is not None:
            _name(edit.name)
        if edit.cover_photo_id and not self._albums.holds(album_id, edit.cover_photo_id):
            raise InvalidInput("the cover must be a photo of the album", code="invalid_cover")
        if edit.parent_id:
            self._album(user_id, edit.parent_id, AlbumRole.OWNER)
            if edit.parent_id in self._albums.subtree(album_id):
                raise Conflict("an album cannot move inside itself", code="album_cycle")
        self._albums.edit(album_id, edit, self._clock.now())
        return self._album(user_id, album_id, AlbumRole.OWNER)

    def delete(self, user_id: str, album_id: str, recursive: bool) -> None:
        """Delete an album (its photos stay). One holding albums needs ``recursive``."""
        self._album(user_id, album_id, AlbumRole.OWNER)
        if not recursive and self._albums.children(album_id):
            raise Conflict(
                "the album holds albums; delete with recursive=true to delete them too",
                code="album_not_empty",
            )
        self._albums.delete(album_id)

    def add_photos(self, user_id: str, album_id: str, photo_ids: Sequence[str]) -> list[str]:
        """Add the user's own photos; the ids that were not in the album yet."""
        self._album(user_id, album_id, AlbumRole.CONTRIBUTOR)
        self._photos.owned(user_id, photo_ids)
        return self._albums.add_photos(album_id, photo_ids, user_id, self._clock.now())

    def remove_photos(self, user_id: str, album_id: str, photo_ids: Sequence[str]) -> list[str]:
        """Take photos out (a contributor only those they added); the ids removed."""
        album = self._album(user_id, album_id, AlbumRole.CONTRIBUTOR)
        added_by = None if album.role is AlbumRole.OWNER else user_id
        return self._albums.remove_photos(album_id, photo_ids, added_by, self._clock.now())

    def move_photos(
        self, user_id: str, album_id: str, photo_ids: Sequence[str], before: str | None
    ) -> None:
        self._album(user_id, album_id, AlbumRole.OWNER)
        if self._albums.move_photos(album_id, photo_ids, before):
            raise InvalidInput(
                "only photos that are in the album can be reordered", code="not_in_album"
            )

    def photos(
        self,
        user_id: str,
        album_id: str,
        limit: int,
        cursor: TimelineCursor | None,
        include_sub: bool = False,
        within: Box | None = None,
    ) -> Page:
        check_limit(limit)
        album = self._album(user_id, album_id, AlbumRole.VIEWER)
        ids = self._albums.subtree(album_id) if include_sub else [album_id]
        return self._albums.photos_page(ids, album.order, limit, cursor, within)

    def subtree(self, user_id: str, album_id: str) -> list[str]:
        """The album, if the user may see it, and the albums below it."""
        self._album(user_id, album_id, AlbumRole.VIEWER)
        return self._albums.subtree(album_id)

    def every_photo(self, user_id: str, album_id: str) -> tuple[Album, Iterator[Photo]]:
        """The album (checked now: ``NotFound`` before anything is sent) and its photos and
        its sub-albums', read a page at a time as they are asked for."""
        album = self._album(user_id, album_id, AlbumRole.VIEWER)
        ids = self._albums.subtree(album_id)

        def pages() -> Iterator[Photo]:
            cursor = None
            while True:
                page = self._albums.photos_page(ids, album.order, PAGE, cursor)
                yield from page.photos
                if page.next_cursor is None:
                    return
                cursor = page.next_cursor

        return album, pages()

    def of_photo(self, user_id: str, photo_id: str) -> list[Album]:
        self._photos.viewable(user_id, photo_id)
        return self._albums.of_photo(user_id, photo_id)

    def share_with(self, user_id: str, album_id: str, name: str, role: AlbumRole) -> Member:
        self._album(user_id, album_id, AlbumRole.OWNER)
        other = self._users.by_name(name)
        if other is None:
            raise NotFound(f"no user named {name!r}", code="user_not_found")
        if other.id == user_id or role is AlbumRole.OWNER:
            raise InvalidInput("share with another user, as viewer or contributor", code="bad_role")
        self._albums.set_member(album_id, other.id, role, self._clock.now())
        return Member(other.id, other.name, role)

    def unshare(self, user_id: str, album_id: str, member_id: str) -> None:
        self._album(user_id, album_id, AlbumRole.OWNER)
        if not self._albums.remove_member(album_id, member_id):
            raise NotFound("the album is not shared with that user", code="member_not_found")

    def resolve(self, user_id: str, name_or_id: str) -> list[str]:
        """An album the user can see, named or by id, and the albums below it."""
        found = self._albums.find(user_id, name_or_id)
        if found is not None:
            return self._albums.subtree(found)
        raise InvalidInput(f"no album named {name_or_id!r}", code="unknown_album")

    def _album(self, user_id: str, album_id: str, needed: AlbumRole) -> Album:
        """The album, if the user has at least the role ``needed`` (else it does not exist
        for them: another user's album answers 404)."""
        role = self._albums.role(user_id, album_id)
        album = self._albums.get(album_id) if role else None
        if album is None or role is None:
            raise NotFound("no such album", code="album_not_found")
        if not role.allows(needed):
            raise Forbidden(f"this needs the {needed.value} role on the album", code="album_role")
        return replace(album, role=role)


def _name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > limits.NAME:
        raise InvalidInput(f"an album name has 1 to {limits.NAME} characters", code="invalid_name")
    return cleaned
