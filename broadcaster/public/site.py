"""The whole public copy as files (path -> bytes and headers), rendered once per change.

`serve` answers public requests from these files, `broadcaster publish --to DIR` writes them to
a folder and the republisher uploads them, so every form of the copy says the same thing. The
paths are those a static host serves for the routes: `status/X99001/index.html` for
`/status/X99001/`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import PublishSettings
from broadcaster.directory.practices import Directory
from broadcaster.public.banner import BANNER_JS, banner_data, snippets_page
from broadcaster.public.cap import cap_alert
from broadcaster.public.feeds import area_feed, practice_feed
from broadcaster.public.pages import area_page, practice_page
from broadcaster.public.published import PublicView, build_public_view
from broadcaster.store.queries import PublicVersion, public_version

log = structlog.get_logger(__name__)

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
CAP_XML = "application/cap+xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
JS = "text/javascript; charset=utf-8"
# Short, so a reader sees an update within a minute; a cache may keep serving a copy for a day
# if this server cannot be reached, which is when patients need it most.
CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=30, stale-if-error=86400"
SCRIPT_CACHE_CONTROL = "public, max-age=3600, stale-if-error=86400"
PLACEHOLDER_URL = "https://YOUR-STATUS-SITE"


@dataclass(frozen=True, slots=True)
class PublicFile:
    body: bytes
    content_type: str
    last_modified: float | None
    cache_control: str = CACHE_CONTROL
    cross_origin: bool = False  # read by scripts on practices' own sites (the banner data)

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.body).hexdigest()[:32]}"'


SiteFiles = Mapping[str, PublicFile]


def render_site(
    view: PublicView, settings: PublishSettings, *, root: str | None = None
) -> dict[str, PublicFile]:
    """Every file of the copy. `root` prefixes links (default: the public base URL)."""
    root = escape((settings.base_url if root is None else root).rstrip("/"))
    sender, at = settings.cap_sender, view.updated_at
    files = {
        "status/index.html": PublicFile(area_page(view, root=root).encode(), HTML, at),
        "status/feed.atom": PublicFile(area_feed(view, root=root, sender=sender), ATOM, at),
        "banner.js": PublicFile(BANNER_JS.encode(), JS, None, SCRIPT_CACHE_CONTROL, cross_origin=True),
        "banner/index.html": PublicFile(
            snippets_page(view, root=escape(settings.base_url.rstrip("/")) or PLACEHOLDER_URL).encode(),
            HTML,
            at,
        ),
    }
    for practice in view.practices:
        ods = practice.ods
        files[f"status/{ods}/index.html"] = PublicFile(
            practice_page(view, practice, root=root).encode(), HTML, at
        )
        files[f"status/{ods}/feed.atom"] = PublicFile(
            practice_feed(view, practice, root=root, sender=sender), ATOM, at
        )
        files[f"banner/{ods}.json"] = PublicFile(banner_data(view, practice), JSON, at, cross_origin=True)
    for incident in view.incidents:
        for update in incident.updates:
            alert = cap_alert(incident, update, sender=sender, sender_name=view.area_name, root=root)
            files[f"cap/{incident.ref}.{update.seq}.xml"] = PublicFile(alert, CAP_XML, update.at)
        files[f"cap/{incident.ref}.xml"] = files[f"cap/{incident.ref}.{incident.latest.seq}.xml"]
    return files


async def build_site_files(
    engine: AsyncEngine, directory: Directory, settings: PublishSettings, *, root: str | None = None
) -> tuple[PublicView, dict[str, PublicFile]]:
    view = await build_public_view(
        engine, directory, area_name=settings.area_name, history_limit=settings.history_limit
    )
    # Rendering thousands of practices' pages is CPU work: off the event loop.
    return view, await asyncio.to_thread(render_site, view, settings, root=root)


class LiveSite:
    """The copy `serve` answers from: rebuilt when an update has been written since, looked at
    no more than once every `recheck_seconds`, so a crowd of readers costs one cheap query a
    second. If the store cannot be read, the last copy built is served."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        directory: Directory,
        settings: PublishSettings,
        recheck_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine, self._directory, self._settings = engine, directory, settings
        self._recheck, self._clock = recheck_seconds, clock
        self._files: dict[str, PublicFile] | None = None
        self._built_for: PublicVersion | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """This process has just written an update: look at the store on the next request."""
        self._checked_at = float("-inf")

    async def files(self) -> dict[str, PublicFile] | None:
        """The current files; None only if the store has never been readable."""
        async with self._lock:
            if self._clock() - self._checked_at < self._recheck and self._files is not None:
                return self._files
            try:
                latest = await public_version(self._engine)
                if latest != self._built_for or self._files is None:
                    _, self._files = await build_site_files(
                        self._engine, self._directory, self._settings, root=""
                    )
                    self._built_for = latest
            except (SQLAlchemyError, OSError) as exc:  # the store is down: keep serving the last copy
                log.warning("public_site_not_rebuilt", error=str(exc))
                return self._files
            self._checked_at = self._clock()
            return self._files
