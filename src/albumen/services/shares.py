"""``ShareService``: links that show an album or a photo to anyone who has them.

A token is 32 random bytes shown once; only its SHA-256 is stored, so a copy of the database
opens nothing. A password (argon2) is checked once per visitor, who then holds a signed
unlock good for a day; wrong passwords are rate limited per link and client.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from albumen.domain.albums import Album, NewShareLink, ShareLink
from albumen.domain.errors import Forbidden, Gone, InvalidInput, NotFound, RateLimited, Unauthorized
from albumen.domain.photos import Page, Photo, ThumbFormat, TimelineCursor
from albumen.domain.search import Box
from albumen.ports import AlbumRepo, Clock, PasswordHasher, RateLimiter, ShareRepo
from albumen.services.photos import PhotoService, check_limit

UNLOCK_SECONDS = 24 * 3600
DOWNLOAD_PAGE = 500  # photos read at a time for a download
EDGE_SECONDS = 300  # how long an edge cache may keep a /t/ answer: a revocation's whole wait


@dataclass(frozen=True, slots=True)
class SharedView:
    link: ShareLink
    title: str
    description: str | None
    page: Page
    albums: list[Album]  # the albums inside the one shown, to open with ``album=``


class ShareService:
    def __init__(
        self,
        shares: ShareRepo,
        albums: AlbumRepo,
        photos: PhotoService,
        hasher: PasswordHasher,
        limiter: RateLimiter,
        clock: Clock,
        secret: bytes,
    ) -> None:
        self._shares = shares
        self._albums = albums
        self._photos = photos
        self._hasher = hasher
        self._limiter = limiter
        self._clock = clock
        self._secret = secret

    def create(
        self,
        user_id: str,
        album_id: str | None,
        photo_id: str | None,
        expires_at: datetime | None,
        password: str | None,
        allow_download: bool,
        show_map: bool = False,
    ) -> NewShareLink:
        if (album_id is None) == (photo_id is None):
            raise InvalidInput("share either an album or a photo", code="invalid_share")
        if album_id is not None:
            album = self._albums.get(album_id)
            if album is None or album.owner_id != user_id:
                raise NotFound("no such album", code="album_not_found")
        if photo_id is not None:
            self._photos.get(user_id, photo_id)
        if show_map and album_id is None:
            raise InvalidInput("only an album's link can show a map", code="invalid_share")
        if expires_at is not None and expires_at <= self._clock.now():
            raise InvalidInput("the expiry is in the past", code="invalid_expiry")
        token = secrets.token_urlsafe(32)
        link = ShareLink(
            id=str(uuid.uuid4()),
            owner_id=user_id,
            album_id=album_id,
            photo_id=photo_id,
            allow_download=allow_download,
            expires_at=expires_at,
            created_at=self._clock.now(),
            has_password=bool(password),
            show_map=show_map,
        )
        password_hash = self._hasher.hash(password) if password else None
        self._shares.add(link, _hash(token), password_hash)
        return NewShareLink(link, token)

    def of_owner(self, user_id: str) -> list[ShareLink]:
        return self._shares.of_owner(user_id)

    def revoke(self, user_id: str, link_id: str) -> None:
        if not self._shares.delete(link_id, user_id):
            raise NotFound("no such share link", code="share_not_found")

    def unlock(self, token: str, password: str, client: str) -> str:
        """Check a link's password; a signed unlock to send back as ``X-Share-Unlock``."""
        link, password_hash = self._find(token)
        if password_hash is None:
            raise InvalidInput("this link has no password", code="no_password")
        if not self._limiter.hit(f"share:{link.id}:{client}"):
            raise RateLimited("too many wrong passwords; wait a minute", code="too_many_attempts")
        if not self._hasher.verify(password_hash, password):
            raise Unauthorized("wrong password", code="wrong_password")
        expires = int(time.time()) + UNLOCK_SECONDS
        return f"{expires}.{self._sign(link.id, expires)}"

    def open(self, token: str, unlock: str | None) -> ShareLink:
        """The link, if it is live and (when it has a password) unlocked."""
        link, password_hash = self._find(token)
        if password_hash is not None and not self._unlocked(link.id, unlock):
            raise Unauthorized("this link needs its password", code="password_required")
        return link

    def view(
        self,
        link: ShareLink,
        album_id: str | None,
        limit: int,
        cursor: TimelineCursor | None,
        within: Box | None = None,
    ) -> SharedView:
        """What the link shows: its photo, or a page of its album (or of an album below it);
        ``within`` a box, where the link shows a map."""
        check_limit(limit)
        if link.photo_id is not None:
            photo = self._photos.get(link.owner_id, link.photo_id)
            return SharedView(link, photo.filename, photo.description, Page([photo], None), [])
        if within is not None:
            self.mapped(link)
        shown = self.shown_album(link, album_id)
        album = self._albums.get(shown)
        assert album is not None
        page = self._albums.photos_page([shown], album.order, limit, cursor, within)
        children = self._albums.children(shown)
        return SharedView(link, album.name, album.description, page, children)

    def shown_album(self, link: ShareLink, album_id: str | None) -> str:
        """The album of the link a visitor asks for: its own, or one below it."""
        if link.album_id is None:
            raise NotFound("no such album in this share", code="album_not_found")
        shown = album_id or link.album_id
        if shown not in self._albums.subtree(link.album_id):
            raise NotFound("no such album in this share", code="album_not_found")
        return shown

    def mapped(self, link: ShareLink) -> None:
        """``Forbidden`` where the link's owner did not let it show where photos were taken."""
        if not link.show_map or link.album_id is None:
            raise Forbidden("this link does not show a map", code="map_not_shared")

    def downloadable(self, link: ShareLink) -> tuple[str, Iterator[Photo]]:
        """The link's name and every photo it shows (its album's and the albums' below it),
        read a page at a time; ``Forbidden`` now where the link allows no downloads."""
        if not link.allow_download:
            raise Forbidden("this link does not allow downloads", code="download_not_allowed")
        if link.photo_id is not None:
            photo = self._photos.get(link.owner_id, link.photo_id)
            return photo.filename, iter([photo])
        assert link.album_id is not None
        album = self._albums.get(link.album_id)
        assert album is not None
        ids = self._albums.subtree(link.album_id)

        def pages() -> Iterator[Photo]:
            cursor = None
            while True:
                page = self._albums.photos_page(ids, album.order, DOWNLOAD_PAGE, cursor)
                yield from (photo for photo in page.photos if not photo.trashed)
                if page.next_cursor is None:
                    return
                cursor = page.next_cursor

        return album.name, pages()

    def photo(self, link: ShareLink, photo_id: str, original: bool) -> Photo:
        """A photo the link shows; its original only where the link allows downloads."""
        shown = photo_id == link.photo_id or (
            link.album_id is not None and self._albums.holds(link.album_id, photo_id)
        )
        if not shown:
            raise NotFound("no such photo in this share", code="photo_not_found")
        photo = self._photos.get(link.owner_id, photo_id)
        if photo.trashed:
            raise NotFound("no such photo in this share", code="photo_not_found")
        if original and not link.allow_download:
            raise Forbidden("this link does not allow downloads", code="download_not_allowed")
        return photo

    def edge_urls(self, link: ShareLink, photos: list[Photo]) -> dict[str, dict[str, str]]:
        """Signed, content-addressed URLs of the WebP thumbnail and preview of each photo.

        ``/t/<hash>.webp?link=..&exp=..&sig=..`` needs no account: the signature names the
        link, and each request checks that the link still stands (one lookup by its key), so
        revoking it stops the URLs at once. An edge cache (or the browser) may keep an answer
        ``public`` for ``EDGE_SECONDS``: that, five minutes, is all a revocation waits for.
        ``exp``, the end of the next whole hour, keeps the URL the same (so cacheable) for an
        hour or more, and bounds what a leaked URL is worth.
        """
        expires = (int(self._clock.now().replace(tzinfo=UTC).timestamp()) // 3600 + 2) * 3600
        if link.expires_at is not None:
            expires = min(expires, int(link.expires_at.replace(tzinfo=UTC).timestamp()))
        found = self._photos.derivative_hashes([p.id for p in photos], ThumbFormat.WEBP)
        urls: dict[str, dict[str, str]] = {}
        for (photo_id, size), sha256 in found.items():
            name = f"{sha256}.webp"
            signature = self.sign_edge(name, link.id, expires)
            signed = f"/t/{name}?link={link.id}&exp={expires}&sig={signature}"
            urls.setdefault(photo_id, {})[size.value] = signed
        return urls

    def check_edge(self, name: str, link_id: str, expires: int, signature: str) -> None:
        """``NotFound`` for a signature not ours or a link revoked; ``Gone`` once ``expires``
        or the link's own expiry has passed."""
        expected = self.sign_edge(name, link_id, expires).encode()
        if not hmac.compare_digest(signature.encode(), expected):  # any text, not only ASCII
            raise NotFound("no such thumbnail", code="not_found")
        now = self._clock.now()
        if expires < now.replace(tzinfo=UTC).timestamp():
            raise Gone("this thumbnail link has expired: open the share link again", code="expired")
        link = self._shares.by_id(link_id)
        if link is None:
            raise NotFound("no such share link (it may have been revoked)", code="share_not_found")
        if link.expires_at is not None and link.expires_at <= now:
            raise Gone("this share link has expired", code="share_expired")

    def sign_edge(self, name: str, link_id: str, expires: int) -> str:
        """The signature of a ``/t/`` URL: the blob, the link it was handed out for, when."""
        message = f"edge.{name}.{link_id}.{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def _find(self, token: str) -> tuple[ShareLink, str | None]:
        found = self._shares.by_token_hash(_hash(token))
        if found is None:
            raise NotFound("no such share link (it may have been revoked)", code="share_not_found")
        link = found[0]
        if link.expires_at is not None and link.expires_at <= self._clock.now():
            raise Gone("this share link has expired", code="share_expired")
        return found

    def _unlocked(self, link_id: str, unlock: str | None) -> bool:
        expires, _, signature = (unlock or "").partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(signature, self._sign(link_id, int(expires)))

    def _sign(self, link_id: str, expires: int) -> str:
        message = f"{link_id}.{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
