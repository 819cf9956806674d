"""The console's own files, served from memory with their types: the stylesheet, the live grid's
script, the icons and the web app manifest. No CDN, no build step."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp import web

_FOLDER = Path(__file__).parent / "static"
_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# A day: the files change only with a release; the pages themselves are never cached.
_CACHE = "public, max-age=86400"
MANIFEST = {
    "name": "Practice broadcaster",
    "short_name": "Broadcaster",
    "description": "Send incident messages to GP practices' patients and staff, and follow what landed.",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "background_color": "#f0f4f5",
    "theme_color": "#005eb8",
    "icons": [
        {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml"},
    ],
}


class Assets:
    """Every file of static/, read on first use."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[bytes, str]] | None = None

    @staticmethod
    def _read() -> dict[str, tuple[bytes, str]]:
        return {
            path.name: (path.read_bytes(), _TYPES[path.suffix])
            for path in sorted(_FOLDER.iterdir())
            if path.suffix in _TYPES
        }

    async def serve(self, request: web.Request) -> web.Response:
        if self._files is None:  # read once, in a worker thread: file reads would stall the loop
            self._files = await asyncio.to_thread(self._read)
        found = self._files.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound(text=f"no console file {request.match_info['name'][:80]!r}")
        body, kind = found
        return web.Response(
            body=body,
            content_type=kind,
            headers={"Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"},
        )


async def manifest(request: web.Request) -> web.Response:
    return web.Response(
        text=json.dumps(MANIFEST),
        content_type="application/manifest+json",
        headers={"Cache-Control": _CACHE},
    )
