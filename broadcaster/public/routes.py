"""The public copy over HTTP: status pages, feeds, CAP alerts and banner, served without a token.

Each route maps to one file of the LiveSite and answers with its ETag and Last-Modified, so a
reader that has it already gets a 304 with no body. An unknown practice, incident or file is a
plain HTML 404, never a JSON error or a 500.
"""

from __future__ import annotations

from email.utils import formatdate

from aiohttp import web
from aiohttp.typedefs import Handler

from broadcaster.public.pages import not_found_page, unavailable_page
from broadcaster.public.site import HTML, LiveSite, PublicFile

LIVE_SITE = web.AppKey("live_site", LiveSite)

# Route -> the file it serves ({ods} and {name} from the request). Registered in this order:
# the feed before the practice page, whose {ods} would otherwise match "feed.atom".
_ROUTES: tuple[tuple[str, str], ...] = (
    ("/status", "status/index.html"),
    ("/status/", "status/index.html"),
    ("/status/feed.atom", "status/feed.atom"),
    ("/status/{ods}", "status/{ods}/index.html"),
    ("/status/{ods}/", "status/{ods}/index.html"),
    ("/status/{ods}/feed.atom", "status/{ods}/feed.atom"),
    ("/cap/{name}", "cap/{name}"),
    ("/banner.js", "banner.js"),
    ("/banner/", "banner/index.html"),
    ("/banner/{name}", "banner/{name}"),
)
PUBLIC_ROUTES = frozenset(path for path, _ in _ROUTES)  # what the token gate lets through


def add_public_routes(app: web.Application, site: LiveSite) -> None:
    app[LIVE_SITE] = site
    for path, file in _ROUTES:
        app.router.add_get(path, _handler(file))


def _handler(file_pattern: str) -> Handler:
    async def serve_file(request: web.Request) -> web.StreamResponse:
        files = await request.app[LIVE_SITE].files()
        if files is None:
            return _page(unavailable_page(root=""), status=503)
        found = files.get(_file_path(file_pattern, request))
        if found is None:
            return _page(not_found_page(root=""), status=404)
        return _reply(request, found)

    return serve_file


def _file_path(pattern: str, request: web.Request) -> str:
    ods = request.match_info.get("ods", "").upper()
    name = request.match_info.get("name", "")
    if name:  # "inc-3.2.xml" is INC-3.2's alert, "x99001.json" X99001's banner data
        stem, dot, ext = name.rpartition(".")
        name = f"{stem.upper()}{dot}{ext.lower()}"
    return pattern.format(ods=ods, name=name)


def _reply(request: web.Request, found: PublicFile) -> web.StreamResponse:
    headers = {
        "ETag": found.etag,
        "Cache-Control": found.cache_control,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if found.last_modified is not None:
        headers["Last-Modified"] = formatdate(int(found.last_modified), usegmt=True)
    if found.cross_origin:
        headers["Access-Control-Allow-Origin"] = "*"
    if found.content_type == HTML:
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"
    if _not_modified(request, found):
        return web.Response(status=304, headers=headers)
    return web.Response(body=found.body, headers={**headers, "Content-Type": found.content_type})


def _not_modified(request: web.Request, found: PublicFile) -> bool:
    if request.if_none_match is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110)
        return any(tag.value == found.etag.strip('"') or tag.value == "*" for tag in request.if_none_match)
    since = request.if_modified_since
    return (
        since is not None
        and found.last_modified is not None
        and int(found.last_modified) <= since.timestamp()
    )


def _page(html: str, *, status: int) -> web.Response:
    return web.Response(
        body=html.encode(),
        status=status,
        headers={
            "Content-Type": HTML,
            "Cache-Control": "public, max-age=10",
            "X-Content-Type-Options": "nosniff",
        },
    )
