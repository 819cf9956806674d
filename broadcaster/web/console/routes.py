"""Where the console's pages and API routes are served, and which action each one is."""

from __future__ import annotations

from aiohttp import web

from broadcaster.accounts.permissions import Action
from broadcaster.web.app_keys import SETTINGS
from broadcaster.web.console import console_api, incident_pages, live_grid, send_pages
from broadcaster.web.console.assets import Assets, manifest
from broadcaster.web.console.send_requests import SHELF, RunbookShelf

# Answer without a credential: a phone fetches the manifest and icons without cookies.
PUBLIC_PATHS = frozenset({"/manifest.webmanifest", "/static/{name}"})
ROUTE_ACTIONS: dict[tuple[str, str], Action] = {
    ("GET", "/"): Action.READ_INCIDENTS,
    ("GET", "/send"): Action.OPEN_INCIDENT,
    ("GET", "/send/compose"): Action.OPEN_INCIDENT,
    ("POST", "/send/preview"): Action.OPEN_INCIDENT,
    ("POST", "/send"): Action.OPEN_INCIDENT,
    ("GET", "/incidents/{ref}"): Action.READ_DELIVERIES,
    ("GET", "/incidents/{ref}/events"): Action.READ_DELIVERIES,
    ("POST", "/incidents/{ref}/updates"): Action.POST_UPDATE,
    ("POST", "/incidents/{ref}/retry"): Action.POST_UPDATE,
    ("POST", "/incidents/{ref}/confirm"): Action.DECIDE_DRAFTS,
    ("POST", "/incidents/{ref}/discard"): Action.DECIDE_DRAFTS,
    ("POST", "/api/incidents/preview"): Action.OPEN_INCIDENT,
    ("POST", "/api/incidents/{ref}/updates/preview"): Action.POST_UPDATE,
    ("POST", "/api/incidents/{ref}/retry"): Action.POST_UPDATE,
    ("GET", "/api/runbooks"): Action.READ_INCIDENTS,
    ("GET", "/api/practices"): Action.READ_INCIDENTS,
    ("GET", "/api/users"): Action.MANAGE_USERS,
}


def add_console_routes(app: web.Application) -> None:

    app[SHELF] = RunbookShelf(app[SETTINGS])
    assets = Assets()
    r = app.router
    r.add_get("/", incident_pages.incidents_page)
    r.add_get("/send", send_pages.choose_page)
    r.add_get("/send/compose", send_pages.compose_page)
    r.add_post("/send/preview", send_pages.preview_page)
    r.add_post("/send", send_pages.send_form)
    r.add_get("/incidents/{ref}", incident_pages.incident_page)
    r.add_get("/incidents/{ref}/events", live_grid.grid_events)
    r.add_post("/incidents/{ref}/updates", incident_pages.post_update_form)
    r.add_post("/incidents/{ref}/retry", incident_pages.retry_form)
    r.add_post("/incidents/{ref}/confirm", incident_pages.decide_draft_form)
    r.add_post("/incidents/{ref}/discard", incident_pages.decide_draft_form)
    r.add_post("/api/incidents/preview", console_api.preview_opening)
    r.add_post("/api/incidents/{ref}/updates/preview", console_api.preview_update)
    r.add_post("/api/incidents/{ref}/retry", console_api.retry_cell)
    r.add_get("/api/runbooks", console_api.runbooks_index)
    r.add_get("/api/practices", console_api.practices_index)
    r.add_get("/api/users", console_api.users_index)
    r.add_get("/manifest.webmanifest", manifest)
    r.add_get("/static/{name}", assets.serve)
