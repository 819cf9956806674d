"""The HTTP JSON API: open incidents, post updates, read their status. Served by `broadcaster serve`."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.content.message_content import content_from_text
from broadcaster.core.incident_refs import parse_incident_ref
from broadcaster.core.models import IncidentStatus
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.delivery.store_health import driver_message
from broadcaster.directory.audience import Audience
from broadcaster.directory.practices import Directory
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.incidents.service import Actor, IncidentRequest, IncidentService, UpdateRequest
from broadcaster.public.routes import LIVE_SITE, PUBLIC_ROUTES, add_public_routes
from broadcaster.public.site import LiveSite
from broadcaster.store.records import StoredUpdate
from broadcaster.web.auth import FailedTokenLimiter, actor_of, token_gate
from broadcaster.web.bodies import OpenIncidentBody, ReopenBody, UpdateBody, parse_body
from broadcaster.web.errors import error_replies
from broadcaster.web.openapi import PUBLIC_PATHS as OPENAPI_PUBLIC_PATHS
from broadcaster.web.openapi import serve_document

ENGINE = web.AppKey("engine", AsyncEngine)
SERVICE = web.AppKey("service", IncidentService)
SETTINGS = web.AppKey("settings", Settings)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
# Answered without the token: the probes and the API's description, and the public status pages,
# feeds, CAP and banner.
PUBLIC_PATHS = OPENAPI_PUBLIC_PATHS | PUBLIC_ROUTES


def make_app(
    *,
    engine: AsyncEngine,
    settings: Settings,
    directory: Directory,
    dispatcher: Dispatcher,
    failed_tokens: FailedTokenLimiter | None = None,
) -> web.Application:
    gate = token_gate(
        token=settings.api_token, limiter=failed_tokens or FailedTokenLimiter(), public_paths=PUBLIC_PATHS
    )
    app = web.Application(middlewares=[error_replies(directory_path=directory.path), gate])
    app[ENGINE] = engine
    app[SETTINGS] = settings
    app[DISPATCHER] = dispatcher
    app[SERVICE] = IncidentService(engine=engine, directory=directory, settings=settings)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/openapi.json", serve_document)
    app.router.add_get("/api/incidents", incidents_index)
    app.router.add_post("/api/incidents", open_incident)
    app.router.add_get("/api/incidents/{ref}", incident_detail)
    app.router.add_post("/api/incidents/{ref}/updates", post_update)
    app.router.add_post("/api/incidents/{ref}/reopen", reopen_incident)
    add_public_routes(app, LiveSite(engine=engine, directory=directory, settings=settings.publish))
    return app


def _require_token(request: web.Request) -> Actor:
    """The credential the token gate checked (every route but the health checks needs one)."""
    return actor_of(request)


def _incident_id(request: web.Request) -> int:
    return parse_incident_ref(request.match_info["ref"])  # IncidentRefError: a 404 saying what refs look like


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
    _require_token(request)
    found = await IncidentQueries(request.app[ENGINE]).recent()
    return web.json_response(
        [
            {
                "ref": r.ref,
                "title": r.title,
                "status": r.status.value,
                "severity": r.severity.value,
                "audience": r.audience.describe(),
                "created_at": r.created_at,
            }
            for r in found
        ]
    )


async def incident_detail(request: web.Request) -> web.Response:
    _require_token(request)
    found = await IncidentQueries(request.app[ENGINE]).incident(_incident_id(request))
    return web.json_response(
        {
            "ref": found.ref,
            "title": found.summary.title,
            "status": found.summary.status.value,
            "updates": [
                {
                    "seq": u.record.seq,
                    "status": u.record.status.value,
                    "message": u.record.message,
                    "author": u.record.author,
                    "deliveries": {state.value: n for state, n in u.deliveries.items()},
                }
                for u in found.updates
            ],
        }
    )


async def open_incident(request: web.Request) -> web.Response:
    actor = _require_token(request)
    body = parse_body(OpenIncidentBody, await request.read())
    settings = request.app[SETTINGS]
    audience = Audience.parse(
        everyone=body.audience.all, groups=body.audience.groups, ods_codes=body.audience.ods
    )
    stored = await request.app[SERVICE].open(
        IncidentRequest(
            title=body.title,
            severity=body.severity,
            content=content_from_text(body.message, sms_max_segments=settings.sms.max_segments),
            audience=audience,
            channels=frozenset(body.channels),
            sms=body.sms,
        ),
        actor=actor,
    )
    request.app[DISPATCHER].wake()
    request.app[LIVE_SITE].invalidate()
    return web.json_response({"ref": stored.incident_ref, "deliveries": stored.deliveries}, status=201)


async def post_update(request: web.Request) -> web.Response:
    actor = _require_token(request)
    body = parse_body(UpdateBody, await request.read())
    settings = request.app[SETTINGS]
    stored = await request.app[SERVICE].post_update(
        _incident_id(request),
        UpdateRequest(
            status=body.status,
            content=content_from_text(body.message, sms_max_segments=settings.sms.max_segments),
            sms=body.sms,
        ),
        actor=actor,
    )
    request.app[DISPATCHER].wake()
    request.app[LIVE_SITE].invalidate()
    return _posted(stored)


async def reopen_incident(request: web.Request) -> web.Response:
    actor = _require_token(request)
    body = parse_body(ReopenBody, await request.read())
    settings = request.app[SETTINGS]
    stored = await request.app[SERVICE].post_update(
        _incident_id(request),
        UpdateRequest(
            status=IncidentStatus.INVESTIGATING,
            content=content_from_text(body.message, sms_max_segments=settings.sms.max_segments),
            sms=body.sms,
            reopens=True,
        ),
        actor=actor,
    )
    request.app[DISPATCHER].wake()
    request.app[LIVE_SITE].invalidate()
    return _posted(stored)


def _posted(stored: StoredUpdate) -> web.Response:
    return web.json_response(
        {"ref": stored.incident_ref, "seq": stored.seq, "deliveries": stored.deliveries}, status=201
    )
