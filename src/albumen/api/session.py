"""The web app's sign-in: a session cookie (HttpOnly, SameSite=Lax; Secure over TLS) and the
CSRF token the page sends back with every change."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from albumen.api.deps import SESSION_COOKIE, Users, check_same_origin, current_user
from albumen.api.openapi import errors
from albumen.api.schemas import Body
from albumen.domain.errors import Unauthorized
from albumen.domain.users import WebSession

router = APIRouter(prefix="/api/v1/session", tags=["session"])


class SignIn(Body):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class UserOut(BaseModel):
    id: str
    name: str
    is_admin: bool


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="Send back as X-CSRF-Token with every change.")

    @classmethod
    def of(cls, session: WebSession) -> SessionOut:
        user = session.user
        return cls(
            user=UserOut(id=user.id, name=user.name, is_admin=user.is_admin),
            csrf_token=session.csrf_token,
        )


@router.post("", response_model=SessionOut, responses=errors(401, 403, 429))
async def sign_in(body: SignIn, request: Request, response: Response, users: Users) -> SessionOut:
    """Sign in with a user name and password (``albumen users passwd`` sets one)."""
    check_same_origin(request)  # no signing a visitor in to someone else's account
    client = request.client.host if request.client else "unknown"
    new = await run_in_threadpool(users.sign_in, body.username, body.password, client)
    lifetime = new.session.expires_at - users.now()
    response.set_cookie(
        SESSION_COOKIE,
        new.secret,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return SessionOut.of(new.session)


@router.get("", response_model=SessionOut, responses=errors(401))
async def signed_in(request: Request, response: Response, users: Users) -> SessionOut:
    """Who the cookie signs in, and the session's CSRF token (401 when nobody)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthorized("nobody is signed in", code="not_signed_in")
    response.headers["Cache-Control"] = "no-store"
    return SessionOut.of(await run_in_threadpool(users.session, secret))


@router.delete("", status_code=204, responses=errors(401, 403))
async def sign_out(request: Request, users: Users) -> Response:
    """Sign this browser out: the session ends on the server, not just in the cookie."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise Unauthorized("nobody is signed in", code="not_signed_in")
    await current_user(request)  # a CSRF-checked request of this session
    await run_in_threadpool(users.sign_out, secret)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
