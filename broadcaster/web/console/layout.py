"""The console's page shell: one small stylesheet, the manifest, a header with who is signed in,
and refusals shown as pages (not JSON) to a person in a browser."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from html import escape

from aiohttp import web

from broadcaster.accounts.permissions import NotAllowed, Principal
from broadcaster.core.errors import BroadcasterError, UnknownIncident
from broadcaster.core.incident_refs import IncidentRefError
from broadcaster.web.bodies import BodyRefused
from broadcaster.web.sessions import CSRF_FIELD, csrf_token

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
        "manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
HEAD = (
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta name="theme-color" content="#005eb8">'
    '<link rel="stylesheet" href="/static/console.css">'
    '<link rel="manifest" href="/manifest.webmanifest">'
    '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">'
    '<link rel="apple-touch-icon" href="/static/icon-192.png">'
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_page(
    title: str,
    body: str,
    *,
    who: Principal | None = None,
    status: int = 200,
    script: bool = False,
) -> web.Response:
    """A complete page; `body` is already escaped HTML."""
    nav = ""
    if who is not None:
        nav = (
            '<header><nav aria-label="Console"><a href="/">Incidents</a>'
            + ('<a href="/send">Send</a>' if who.scope is None or who.scope else "")
            + f'<a href="/account">{escape(who.name)}</a></nav></header>'
        )
    js = '<script src="/static/grid.js" defer></script>' if script else ""
    html = (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">{HEAD}'
        f"<title>{escape(title)} - Practice broadcaster</title>{js}</head>"
        f"<body>{nav}<main><h1>{escape(title)}</h1>\n{body}\n</main></body></html>\n"
    )
    return web.Response(text=html, content_type="text/html", status=status, headers=HEADERS)


async def csrf_field(request: web.Request) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(await csrf_token(request))}">'


def problem(message: str | None) -> str:
    if not message:
        return ""
    return f'<div class="problem" role="alert"><p>{escape(message).replace(chr(10), "<br>")}</p></div>'


def html_refusals(handler: Handler) -> Handler:
    """A refused page request answers a page saying why (403, 404, 409, 422), not JSON."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotAllowed as exc:
            return _refusal(request, "Not allowed", str(exc), 403)
        except (IncidentRefError, UnknownIncident) as exc:
            return _refusal(request, "Not found", str(exc), 404)
        except BodyRefused as exc:
            return _refusal(request, "Not sent", str(exc), 400)
        except BroadcasterError as exc:
            return _refusal(request, "Not sent", str(exc), 422)

    return wrapped


def _refusal(request: web.Request, title: str, message: str, status: int) -> web.Response:
    from broadcaster.web.auth import PRINCIPAL  # noqa: PLC0415  (auth imports nothing of ours; kept local for clarity)

    who = request.get(PRINCIPAL)
    return console_page(
        title, problem(message) + '<p><a href="/">Back to incidents</a></p>', who=who, status=status
    )
