"""The sign-in pages: name and password, then the second factor; signing out. Plain HTML forms,
no JavaScript, for the console to build on.

    GET  /login        name and password form
    POST /login        checks them; on success, on to /login/code (the session remembers who, 5 min)
    GET  /login/code   one-time code (or recovery code) form
    POST /login/code   checks it; on success a fresh signed-in session, on to HOME
    GET  /account      who is signed in, and the sign-out button
    POST /logout       ends the session

Failures say only "wrong name or password" / "wrong code" (nothing about which), are counted per
name and per address (accounts.sign_in_throttle) and audited; while a name or address must wait,
the page answers 429 without checking anything.
"""

from __future__ import annotations

import math
import time
from html import escape

import structlog
from aiohttp import web
from aiohttp_session import get_session

from broadcaster.accounts.service import AccountService
from broadcaster.accounts.sign_in_throttle import SignInThrottle, address_key, user_key
from broadcaster.store.records import AuditEntry
from broadcaster.web.auth import client_of, principal_of
from broadcaster.web.sessions import CSRF_FIELD, csrf_token, end_session, start_signed_in_session

log = structlog.get_logger(__name__)

ACCOUNTS = web.AppKey("accounts", AccountService)
THROTTLE = web.AppKey("sign_in_throttle", SignInThrottle)
HOME = "/"  # where a signed-in user lands: the console's incident list
_PENDING_SECONDS = 300  # between the password and the code
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; manifest-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def add_sign_in_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login_password)
    app.router.add_get("/login/code", code_form)
    app.router.add_post("/login/code", login_code)
    app.router.add_get("/account", account_page)
    app.router.add_post("/logout", logout)


def page(title: str, body: str, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A complete, small, accessible HTML page; `body` is already escaped HTML."""
    html = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/static/console.css"><link rel="manifest" href="/manifest.webmanifest">'
        f"<title>{escape(title)} - Practice broadcaster</title></head>"
        f"<body><main><h1>{escape(title)}</h1>\n{body}\n</main></body></html>\n"
    )
    return web.Response(
        text=html, content_type="text/html", status=status, headers={**_HEADERS, **(headers or {})}
    )


def _problem(message: str | None) -> str:
    return f'<p role="alert"><strong>{escape(message)}</strong></p>' if message else ""


async def _hidden_csrf(request: web.Request) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(await csrf_token(request))}">'


async def _password_page(request: web.Request, problem: str | None = None, status: int = 200) -> web.Response:
    return page(
        "Sign in",
        f"""{_problem(problem)}<form method="post" action="/login">{await _hidden_csrf(request)}
<p><label for="name">User name</label><br>
<input id="name" name="name" autocomplete="username" autocapitalize="none" required></p>
<p><label for="password">Password</label><br>
<input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Continue</button></p></form>""",
        status=status,
    )


async def _code_page(request: web.Request, problem: str | None = None, status: int = 200) -> web.Response:
    return page(
        "Enter your code",
        f"""{_problem(problem)}<form method="post" action="/login/code">{await _hidden_csrf(request)}
<p><label for="code">The 6-digit code from your authenticator app, or one of your recovery codes</label><br>
<input id="code" name="code" autocomplete="one-time-code" autocapitalize="none" required></p>
<p><button type="submit">Sign in</button></p></form>
<p><a href="/login">Start again</a></p>""",
        status=status,
    )


async def login_form(request: web.Request) -> web.Response:
    return await _password_page(request)


def _throttled(request: web.Request, name: str) -> web.Response | None:
    wait = request.app[THROTTLE].seconds_to_wait(user_key(name), address_key(client_of(request)))
    if wait <= 0:
        return None
    seconds = max(math.ceil(wait), 1)
    log.warning("sign_in_throttled", client=client_of(request), retry_after=seconds)
    return page(
        "Too many attempts",
        f'<p role="alert">Too many failed sign-ins for this name or from this address. '
        f'Try again in {seconds} seconds.</p><p><a href="/login">Back to sign in</a></p>',
        status=429,
        headers={"Retry-After": str(seconds)},
    )


async def _refused(request: web.Request, name: str, step: str) -> None:
    client = client_of(request)
    request.app[THROTTLE].record_failure(user_key(name), address_key(client))
    log.warning("sign_in_refused", client=client, step=step)
    # A name that is no user's may be a password typed in the wrong box: it is not recorded.
    known = await request.app[ACCOUNTS].user_named(name) is not None
    await _audit(request, name if known else "(not a user)", "sign_in_refused", {"step": step})


async def login_password(request: web.Request) -> web.Response:
    form = await request.post()
    name, password = str(form.get("name", "")).strip().lower(), str(form.get("password", ""))
    if (refusal := _throttled(request, name)) is not None:
        return refusal
    user = await request.app[ACCOUNTS].check_password(name, password)
    if user is None:
        await _refused(request, name, "password")
        return await _password_page(request, "The user name or password is wrong.", status=401)
    session = await get_session(request)
    session["pending"] = {"user": user.name, "until": time.time() + _PENDING_SECONDS}
    raise web.HTTPSeeOther(location="/login/code")


async def _pending_user(request: web.Request) -> str | None:
    pending = (await get_session(request)).get("pending")
    if (
        isinstance(pending, dict)
        and isinstance(pending.get("user"), str)
        and pending.get("until", 0) > time.time()
    ):
        return str(pending["user"])
    return None


async def code_form(request: web.Request) -> web.Response:
    if await _pending_user(request) is None:
        raise web.HTTPSeeOther(location="/login")
    return await _code_page(request)


async def login_code(request: web.Request) -> web.Response:
    name = await _pending_user(request)
    if name is None:
        raise web.HTTPSeeOther(location="/login")
    if (refusal := _throttled(request, name)) is not None:
        return refusal
    accounts = request.app[ACCOUNTS]
    user = await accounts.user_named(name)
    used = (
        None
        if user is None or user.disabled
        else await accounts.check_second_factor(user, str((await request.post()).get("code", "")))
    )
    if user is None or used is None:
        await _refused(request, name, "code")
        return await _code_page(request, "That code is wrong or has been used already.", status=401)
    await start_signed_in_session(request, user_id=user.id, name=user.name, epoch=user.session_epoch)
    request.app[THROTTLE].forget(user_key(name))
    log.info("signed_in", user=user.name, client=client_of(request), second_factor=used)
    await _audit(request, user.name, "signed_in", {"second_factor": used})
    raise web.HTTPSeeOther(location=HOME)


async def account_page(request: web.Request) -> web.Response:
    who = principal_of(request)
    scope = f" for {', '.join(sorted(who.ods_codes))}" if who.ods_codes else ""
    return page(
        "Signed in",
        f"<p>Signed in as <strong>{escape(who.name)}</strong> ({escape(who.role.value)}{escape(scope)}).</p>"
        f'<form method="post" action="/logout">{await _hidden_csrf(request)}'
        '<p><button type="submit">Sign out</button></p></form>',
    )


async def logout(request: web.Request) -> web.Response:
    name = (await get_session(request)).get("name")
    await end_session(request)
    if isinstance(name, str):
        await _audit(request, name, "signed_out", {})
    raise web.HTTPSeeOther(location="/login")


async def _audit(request: web.Request, actor: str, action: str, detail: dict[str, object]) -> None:
    entry = AuditEntry(actor, f"web {request.remote or 'unknown'}", action, detail, credential="session")
    await request.app[ACCOUNTS].record(entry)
