"""Signed-in sessions and the CSRF check every form post meets.

The session lives in a cookie sealed with the server key (aiohttp-session's EncryptedCookieStorage,
Fernet: encrypted and authenticated, so it can be neither read nor forged): HttpOnly, SameSite=Lax,
Secure when BROADCASTER_WEB__SECURE_COOKIES is true (behind TLS), and refused once older than
BROADCASTER_WEB__SESSION_HOURS. It holds the user's id and their sign-in epoch, which disable,
reset-password and reset-totp move on, ending every session signed in before.

CSRF: a random token kept in the session goes into every form as a hidden field `csrf_token`
(or, for a script using the session, an `X-CSRF-Token` header). Every POST, PUT, PATCH or DELETE
without an Authorization header must carry it; requests with a bearer token need none, since a
browser never attaches one by itself.
"""

from __future__ import annotations

import hmac
import secrets
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp_session import Session, get_session, new_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from broadcaster.accounts.permissions import Principal
from broadcaster.accounts.server_keys import ServerKeys
from broadcaster.accounts.service import AccountService
from broadcaster.config.settings import WebSettings

COOKIE_NAME = "broadcaster_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def sessions_middleware(keys: ServerKeys, settings: WebSettings) -> Middleware:
    storage = EncryptedCookieStorage(
        keys.sessions,
        cookie_name=COOKIE_NAME,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="Lax",  # Strict would sign out anyone who follows a link to the console
        secure=settings.secure_cookies,
    )
    return session_middleware(storage)


async def session_principal(request: web.Request, accounts: AccountService) -> Principal | None:
    """The signed-in user of this request's session cookie, if it is still good."""
    session = await get_session(request)
    user_id, epoch = session.get("user_id"), session.get("epoch")
    if not isinstance(user_id, int) or not isinstance(epoch, int):
        return None
    return await accounts.session_principal(user_id, epoch)


async def start_signed_in_session(request: web.Request, *, user_id: int, name: str, epoch: int) -> None:
    """A fresh session (a new cookie, new CSRF token): nothing from before sign-in carries over."""
    session = await new_session(request)
    session["user_id"], session["name"], session["epoch"] = user_id, name, epoch
    session["signed_in_at"] = time.time()
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


async def csrf_token(request: web.Request) -> str:
    """This session's CSRF token, for a form's hidden `csrf_token` field."""
    session = await get_session(request)
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_guard() -> Middleware:
    """Middleware: unsafe requests that rely on the cookie (no Authorization header) must carry
    the session's CSRF token, or they are refused with 403 before any handler runs."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in _UNSAFE_METHODS and "Authorization" not in request.headers:
            session = await get_session(request)
            expected = session.get(CSRF_FIELD)
            given = request.headers.get(CSRF_HEADER)
            if given is None and request.content_type in _FORM_TYPES:
                given = str((await request.post()).get(CSRF_FIELD, ""))
            if not (isinstance(expected, str) and given and hmac.compare_digest(given, expected)):
                raise web.HTTPForbidden(
                    text="this form has expired or did not come from this site (its CSRF token is "
                    "missing or wrong); reload the page and send it again"
                )
        return await handler(request)

    return guard


async def end_session(request: web.Request) -> Session:
    session = await get_session(request)
    session.invalidate()
    return session
