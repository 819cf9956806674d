"""The HTTP JSON API: open incidents, post updates, read their status. Served by `broadcaster serve`."""

from __future__ import annotations

import secrets

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Action
from broadcaster.accounts.server_keys import ServerKeys
from broadcaster.accounts.service import AccountService
from broadcaster.accounts.sign_in_throttle import SignInThrottle
from broadcaster.config.settings import Settings
from broadcaster.content.message_content import content_from_text
from broadcaster.core.errors import UnknownIncident
from broadcaster.core.models import IncidentStatus
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.delivery.metrics import DeliveryMetrics
from broadcaster.delivery.store_health import driver_message
from broadcaster.directory.practices import Directory
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.incidents.service import Actor, IncidentService, UpdateRequest
from broadcaster.monitoring.alert_actions import AlertActions
from broadcaster.public.routes import LIVE_SITE, PUBLIC_ROUTES, add_public_routes
from broadcaster.public.site import LiveSite
from broadcaster.store.records import StoredUpdate
from broadcaster.web.app_keys import DIRECTORY, DISPATCHER, ENGINE, SERVICE, SETTINGS
from broadcaster.web.audit_routes import audit_csv, audit_json
from broadcaster.web.auth import FailedTokenLimiter, actor_of, credential_gate, principal_of
from broadcaster.web.bodies import DraftDecisionBody, ReopenBody, UpdateBody, parse_body
from broadcaster.web.console import routes as console
from broadcaster.web.console.scope import decidable_incident, reach, visible_incident
from broadcaster.web.console.send_requests import SHELF, SendBody, incident_request
from broadcaster.web.errors import error_replies
from broadcaster.web.hook_routes import ROUTE_ACTIONS as HOOK_ACTIONS
from broadcaster.web.hook_routes import add_hook_routes
from broadcaster.web.metrics_route import PATH as METRICS_PATH
from broadcaster.web.metrics_route import add_metrics_route
from broadcaster.web.openapi import PUBLIC_PATHS as OPENAPI_PUBLIC_PATHS
from broadcaster.web.openapi import serve_document
from broadcaster.web.sessions import csrf_guard, sessions_middleware
from broadcaster.web.sign_in_pages import ACCOUNTS, THROTTLE, add_sign_in_routes

# Answered without a credential: the probes and the API's description, the public status pages,
# feeds, CAP and banner, and the sign-in pages.
SIGN_IN_PATHS = frozenset({"/login", "/login/code", "/logout"})
PUBLIC_PATHS = OPENAPI_PUBLIC_PATHS | PUBLIC_ROUTES | SIGN_IN_PATHS
# What each route is, for the gate's role check (accounts.permissions). A route missing here is
# refused to every role, so add each new route with the action it performs.
ROUTE_ACTIONS: dict[tuple[str, str], Action] = {
    ("GET", "/api/incidents"): Action.READ_INCIDENTS,
    ("POST", "/api/incidents"): Action.OPEN_INCIDENT,
    ("GET", "/api/incidents/{ref}"): Action.READ_INCIDENTS,
    ("GET", "/api/incidents/{ref}/deliveries"): Action.READ_DELIVERIES,
    ("POST", "/api/incidents/{ref}/updates"): Action.POST_UPDATE,
    ("POST", "/api/incidents/{ref}/reopen"): Action.POST_UPDATE,
    ("POST", "/api/incidents/{ref}/confirm"): Action.DECIDE_DRAFTS,
    ("POST", "/api/incidents/{ref}/discard"): Action.DECIDE_DRAFTS,
    ("GET", "/api/audit"): Action.READ_AUDIT,
    ("GET", "/api/audit.csv"): Action.READ_AUDIT,
    ("GET", "/account"): Action.SEE_OWN_ACCOUNT,
    ("GET", "/metrics"): Action.READ_METRICS,
}


def make_app(
    *,
    engine: AsyncEngine,
    settings: Settings,
    directory: Directory,
    dispatcher: Dispatcher,
    failed_tokens: FailedTokenLimiter | None = None,
    keys: ServerKeys | None = None,
    sign_in_throttle: SignInThrottle | None = None,
) -> web.Application:
    """`keys`: the server key (accounts.server_keys.load_server_keys; `serve` passes it). Without
    one, a key made up for this app only: sessions end with it, and TOTP secrets sealed by the
    CLI cannot be read, so only tests and previews leave it out."""

    keys = keys or ServerKeys.from_secret(secrets.token_urlsafe(32))
    accounts = AccountService(engine=engine, keys=keys)
    gate = credential_gate(
        legacy_token=settings.api_token,
        accounts=accounts,
        limiter=failed_tokens or FailedTokenLimiter(),
        # /metrics without a credential only when the operator says so (see web/metrics_route.py).
        public_paths=PUBLIC_PATHS
        | console.PUBLIC_PATHS
        | ({METRICS_PATH} if settings.web.metrics_open else set()),
        route_actions={**ROUTE_ACTIONS, **console.ROUTE_ACTIONS, **HOOK_ACTIONS},
    )
    app = web.Application(
        middlewares=[
            error_replies(directory_path=directory.path),
            sessions_middleware(keys, settings.web),
            gate,
            csrf_guard(),
        ]
    )
    app[ENGINE] = engine
    app[SETTINGS] = settings
    app[DISPATCHER] = dispatcher
    app[DIRECTORY] = directory
    app[ACCOUNTS] = accounts
    app[THROTTLE] = sign_in_throttle or SignInThrottle()
    app[SERVICE] = IncidentService(engine=engine, directory=directory, settings=settings)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/openapi.json", serve_document)
    app.router.add_get("/api/incidents", incidents_index)
    app.router.add_post("/api/incidents", open_incident)
    app.router.add_get("/api/incidents/{ref}", incident_detail)
    app.router.add_get("/api/incidents/{ref}/deliveries", incident_deliveries)
    app.router.add_post("/api/incidents/{ref}/updates", post_update)
    app.router.add_post("/api/incidents/{ref}/reopen", reopen_incident)
    app.router.add_post("/api/incidents/{ref}/confirm", confirm_draft)
    app.router.add_post("/api/incidents/{ref}/discard", discard_draft)
    app.router.add_get("/api/audit", audit_json)
    app.router.add_get("/api/audit.csv", audit_csv)
    add_sign_in_routes(app)
    add_metrics_route(app, DeliveryMetrics(engine), dispatcher.writer.outcomes)
    add_public_routes(app, LiveSite(engine=engine, directory=directory, settings=settings.publish))
    console.add_console_routes(app)
    add_hook_routes(
        app,
        AlertActions(engine=engine, service=app[SERVICE], settings=settings, runbook=app[SHELF].get),
    )
    return app


def _require_token(request: web.Request) -> Actor:
    """The credential the gate checked (every route but the public ones needs one)."""
    return actor_of(request)


async def healthz(request: web.Request) -> web.Response:
    """Alive, and sending only what it can record: 503 while the store refuses the dispatcher's
    writes (sending is paused meanwhile) or a dispatcher loop has stopped."""
    return _health_reply(request.app[DISPATCHER])


async def readyz(request: web.Request) -> web.Response:
    """Ready for work: the store answers a read, and the dispatcher runs and can write."""
    try:
        await IncidentQueries(request.app[ENGINE]).recent(limit=1)
    except SQLAlchemyError as exc:
        problem = f"reading the store fails: {driver_message(exc)}"
        return web.json_response({"status": "failing", "problems": [problem]}, status=503)
    return _health_reply(request.app[DISPATCHER])


def _health_reply(dispatcher: Dispatcher) -> web.Response:
    problems = [p.describe() for p in dispatcher.health.problems]
    if not dispatcher.running:
        problems.append("the dispatcher is not running")
    if problems:
        return web.json_response({"status": "failing", "sending": "paused", "problems": problems}, status=503)
    return web.json_response({"status": "ok"})


async def incidents_index(request: web.Request) -> web.Response:
    principal = principal_of(request)
    found = [
        r
        for r in await IncidentQueries(request.app[ENGINE]).recent()
        if principal.scope is None or principal.sees_any(reach(request, r.audience))
    ]
    return web.json_response(
        [
            {
                "ref": r.ref,
                "title": r.title,
                "status": r.status.value,
                "severity": r.severity.value,
                "audience": r.audience.describe(),
                "created_at": r.created_at,
                "exercise": r.exercise,
                "draft": r.draft,
            }
            for r in found
        ]
    )


async def incident_detail(request: web.Request) -> web.Response:
    principal = principal_of(request)
    incident_id = await visible_incident(request, principal)
    found = await IncidentQueries(request.app[ENGINE]).incident(incident_id, practices=principal.scope)
    return web.json_response(
        {
            "ref": found.ref,
            "title": found.summary.title,
            "status": found.summary.status.value,
            "waiting_draft": found.summary.waiting_draft_seq,
            "updates": [
                {
                    "seq": u.record.seq,
                    "status": u.record.status.value,
                    "message": u.record.message,
                    "author": u.record.author,
                    "draft": u.record.draft and u.record.draft.value,
                    "decided_by": u.record.decided_by,
                    "deliveries": {state.value: n for state, n in u.deliveries.items()},
                }
                for u in found.updates
            ],
        }
    )


async def incident_deliveries(request: web.Request) -> web.Response:
    """The delivery grid: one row per practice x channel x recipient (phone numbers and addresses:
    READ_DELIVERIES), for `?update=N` (default the latest) or `?update=all`; a practice user gets
    only its practices' rows."""
    principal = principal_of(request)
    incident_id = await visible_incident(request, principal)
    wanted = request.query.get("update", "")
    every = wanted == "all"
    seq = None if every or not wanted else _update_number(wanted)
    grid = await IncidentQueries(request.app[ENGINE]).grid(
        incident_id, seq=seq, every_update=every, practices=principal.scope
    )
    return web.json_response(
        {
            "ref": grid.incident.ref,
            "update": "all" if every else grid.shown_seq,
            "deliveries": [
                {
                    "update": d.update_seq,
                    "practice": d.practice,
                    "channel": d.channel.value,
                    "recipient": d.recipient,
                    "state": d.state.value,
                    "attempts": d.attempts,
                    "reason": d.last_error,
                    "delivered_at": d.delivered_at,
                }
                for d in grid.deliveries
            ],
            "attention": [
                {"practice": p, "route": route, "recipient": r, "reason": why}
                for p, route, r, why in grid.attention
            ],
        }
    )


def _update_number(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) < 10):
        raise UnknownIncident(f"update={value!r} is not an update number: use update=0, 1, ... or update=all")
    return int(value)


async def open_incident(request: web.Request) -> web.Response:
    actor = _require_token(request)
    principal = principal_of(request)
    # From a runbook (`runbook`, `fields`) or free text (`title`, `message`), as the console sends.
    body = parse_body(SendBody, await request.read())
    wanted = incident_request(body, shelf=await request.app[SHELF].ready(), settings=request.app[SETTINGS])
    if principal.scope is not None:
        principal.require_practices(reach(request, wanted.audience), what="open incidents")
    stored = await request.app[SERVICE].open(
        wanted,
        actor=actor,
    )
    request.app[DISPATCHER].wake()
    request.app[LIVE_SITE].invalidate()
    return web.json_response({"ref": stored.incident_ref, "deliveries": stored.deliveries}, status=201)


async def post_update(request: web.Request) -> web.Response:
    body = parse_body(UpdateBody, await request.read())
    return await _post(request, body, status=body.status, reopens=False)


async def reopen_incident(request: web.Request) -> web.Response:
    body = parse_body(ReopenBody, await request.read())
    return await _post(request, body, status=IncidentStatus.INVESTIGATING, reopens=True)


async def _post(
    request: web.Request, body: UpdateBody | ReopenBody, *, status: IncidentStatus, reopens: bool
) -> web.Response:
    """An update or a reopen into the incident's threads: the two differ only in status and label."""
    actor = _require_token(request)
    principal = principal_of(request)
    incident_id = await visible_incident(request, principal)
    settings = request.app[SETTINGS]
    stored = await request.app[SERVICE].post_update(
        incident_id,
        UpdateRequest(
            status=status,
            content=content_from_text(
                body.message,
                sms_max_segments=settings.sms.max_segments,
                confidentiality_override=body.confidentiality_override,
            ),
            sms=body.sms,
            reopens=reopens,
            practices=principal.scope,  # a practice user's update goes to its practices' threads only
        ),
        actor=actor,
    )
    request.app[DISPATCHER].wake()
    request.app[LIVE_SITE].invalidate()
    return _posted(stored)


async def confirm_draft(request: web.Request) -> web.Response:
    """Send the monitor's draft waiting on the incident, as written."""
    stored = await _decide_draft(request, confirm=True)
    request.app[DISPATCHER].wake()
    return _posted(stored)


async def discard_draft(request: web.Request) -> web.Response:
    """Drop the monitor's draft waiting on the incident: nothing of it is sent."""
    stored = await _decide_draft(request, confirm=False)
    return web.json_response({"ref": stored.incident_ref, "seq": stored.seq, "discarded": stored.deliveries})


async def _decide_draft(request: web.Request, *, confirm: bool) -> StoredUpdate:
    body = parse_body(DraftDecisionBody, await request.read() or b"{}")
    incident_id = await decidable_incident(request, principal_of(request))
    service = request.app[SERVICE]
    decide = service.confirm_draft if confirm else service.discard_draft
    stored = await decide(incident_id, seq=body.seq, actor=_require_token(request))
    request.app[LIVE_SITE].invalidate()
    return stored


def _posted(stored: StoredUpdate) -> web.Response:
    return web.json_response(
        {"ref": stored.incident_ref, "seq": stored.seq, "deliveries": stored.deliveries}, status=201
    )
