"""Request dependencies: the services and the authenticated user."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from albumen.domain.errors import Forbidden, Unauthorized
from albumen.domain.users import User
from albumen.services.albums import AlbumService
from albumen.services.jobs import JobService
from albumen.services.maps import MapService
from albumen.services.memories import MemoryService
from albumen.services.people import PeopleService
from albumen.services.photos import PhotoService
from albumen.services.prefetch import PrefetchService
from albumen.services.search import SearchService
from albumen.services.shares import ShareService
from albumen.services.similar import SimilarService
from albumen.services.trash import TrashService
from albumen.services.uploads import UploadService
from albumen.services.users import UserService


async def photos(request: Request) -> PhotoService:
    service: PhotoService = request.app.state.services.photos
    return service


async def albums(request: Request) -> AlbumService:
    service: AlbumService = request.app.state.services.albums
    return service


async def maps(request: Request) -> MapService:
    service: MapService = request.app.state.services.maps
    return service


async def memories(request: Request) -> MemoryService:
    service: MemoryService = request.app.state.services.memories
    return service


async def people(request: Request) -> PeopleService:
    service: PeopleService = request.app.state.services.people
    return service


async def similar(request: Request) -> SimilarService:
    service: SimilarService = request.app.state.services.similar
    return service


async def search(request: Request) -> SearchService:
    service: SearchService = request.app.state.services.search
    return service


async def shares(request: Request) -> ShareService:
    service: ShareService = request.app.state.services.shares
    return service


async def trash(request: Request) -> TrashService:
    service: TrashService = request.app.state.services.trash
    return service


async def uploads(request: Request) -> UploadService:
    service: UploadService = request.app.state.services.uploads
    return service


async def users(request: Request) -> UserService:
    service: UserService = request.app.state.services.users
    return service


async def jobs(request: Request) -> JobService:
    service: JobService = request.app.state.services.jobs
    return service


async def prefetch(request: Request) -> PrefetchService:
    service: PrefetchService = request.app.state.services.prefetch
    return service


SESSION_COOKIE = "albumen_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def current_user(request: Request) -> User:
    """The owner of the request's ``Authorization: Bearer`` key, or of its session cookie (the
    web app). Known keys and sessions cost no I/O. A cookie alone never changes anything: a
    state-changing request must also carry the session's CSRF token and come from this origin.
    The user's id stays in the request's state (its reads after a change follow the change)."""
    user = await _authenticated(request)
    request.state.user_id = user.id
    return user


async def form_user(request: Request, csrf_token: str) -> User:
    """``current_user`` for a form the web app posts (a browser saves its answer as a
    download as it arrives; a form cannot send headers): the session's CSRF token comes in
    the form."""
    user = await _authenticated(request, csrf_token)
    request.state.user_id = user.id
    return user


async def _authenticated(request: Request, csrf_token: str | None = None) -> User:
    users: UserService = request.app.state.services.users
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        known = users.cached_user(key.strip())
        if known is not None:
            return known
        return await run_in_threadpool(users.authenticate, key.strip())
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthorized(
            "sign in, or send an API key as 'Authorization: Bearer <key>'", code="no_api_key"
        )
    session = users.cached_session(secret)
    if session is None:
        session = await run_in_threadpool(users.session, secret)
    if request.method not in SAFE_METHODS:
        check_same_origin(request, required=True)
        sent = request.headers.get(CSRF_HEADER, "") if csrf_token is None else csrf_token
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise Forbidden(
                f"a signed-in change needs the {CSRF_HEADER} header of its session",
                code="csrf_failed",
            )
    return session.user


def check_same_origin(request: Request, *, required: bool = False) -> None:
    """Refuse a browser request sent by another site (``Origin``, else ``Referer``). A change
    made with a session cookie must say where it comes from (``required``): browsers send
    ``Origin`` with every such request, and a cookie is only ever a browser's."""
    sent = request.headers.get("origin") or request.headers.get("referer")
    if sent == "null" and request.headers.get("sec-fetch-site") == "same-origin":
        # a form posted by a page of ours: its Referrer-Policy (no-referrer) makes the browser
        # send "Origin: null", and Sec-Fetch-Site, which no page can set, says where it is from
        return
    if not sent:
        if required:
            raise Forbidden(
                "a signed-in change must say where it comes from (Origin)", code="csrf_failed"
            )
        return  # not a browser's cross-site request: those always say where they come from
    origin = urlsplit(sent)
    if (origin.scheme, origin.netloc) != (request.url.scheme, request.url.netloc):
        raise Forbidden("this request came from another site", code="csrf_failed")


async def admin_user(request: Request) -> User:
    """The request's user, if they are an admin (403 ``admin_only`` otherwise)."""
    user = await current_user(request)
    if not user.is_admin:
        raise Forbidden("only an admin may read this", code="admin_only")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
Photos = Annotated[PhotoService, Depends(photos)]
Uploads = Annotated[UploadService, Depends(uploads)]
Albums = Annotated[AlbumService, Depends(albums)]
Search = Annotated[SearchService, Depends(search)]
Maps = Annotated[MapService, Depends(maps)]
Memories = Annotated[MemoryService, Depends(memories)]
People = Annotated[PeopleService, Depends(people)]
Similar = Annotated[SimilarService, Depends(similar)]
Shares = Annotated[ShareService, Depends(shares)]
Trash = Annotated[TrashService, Depends(trash)]
Jobs = Annotated[JobService, Depends(jobs)]
Users = Annotated[UserService, Depends(users)]
Prefetch = Annotated[PrefetchService, Depends(prefetch)]
