"""The HTTP API described as an OpenAPI 3.1 document, served at `/openapi.json`.

Request bodies come from the same pydantic models that parse them (web/bodies.py), so the
document cannot drift from what is accepted; a test checks that every route the app serves is
described here and nothing else is, and that each described answer is what the app answers.
The public copy (status pages, feeds, CAP, banner) is files, not an API: public/routes.py lists it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from broadcaster.monitoring.alert_actions import Outcome
from broadcaster.monitoring.payloads import AlertmanagerPayload, GenericAlert, KumaPayload
from broadcaster.web.bodies import DraftDecisionBody, ReopenBody, UpdateBody
from broadcaster.web.console.send_requests import RetryBody, SendBody, UpdateSendBody

_ERROR = {"$ref": "#/components/schemas/Error"}
_REF = {
    "name": "ref",
    "in": "path",
    "required": True,
    "description": "An incident reference such as INC-42 (or just 42).",
    "schema": {"type": "string", "example": "INC-42"},
}
_DRAFT_SCOPE = "this role may not decide drafts, or (a practice account) the incident reaches other practices"
_POSTED = {
    "type": "object",
    "required": ["ref", "seq", "deliveries"],
    "properties": {
        "ref": {"type": "string", "example": "INC-42"},
        "seq": {"type": "integer", "description": "The update's number; 0 opens the incident."},
        "deliveries": {"type": "integer", "description": "Messages queued for delivery."},
    },
}
_OPENED = {
    "type": "object",
    "required": ["ref", "deliveries"],
    "properties": {
        "ref": {"type": "string", "example": "INC-42"},
        "deliveries": {"type": "integer", "description": "Messages queued for delivery."},
    },
}
_HEALTH = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"enum": ["ok", "failing"]},
        "sending": {"enum": ["paused"]},
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}
_ROLE = "the credential's role may not do this (the message names the role needed)"
_SCOPE = (
    "the role may not do this, or a practice account's practices do not cover the incident or "
    "audience; for a session, also a missing X-CSRF-Token on a write"
)
_PAGE = {"type": "string", "description": "an HTML page"}
_AUDIT_EVENT = {
    "type": "object",
    "required": ["id", "at", "actor", "credential", "origin", "action", "incident", "detail"],
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": "string", "description": "ISO 8601, UTC"},
        "actor": {"type": "string", "description": "user or token name"},
        "credential": {"enum": ["cli", "session", "api-token", "legacy-token", ""]},
        "origin": {"type": "string", "description": "cli@host, api 10.0.0.7, web 10.0.0.7"},
        "action": {"type": "string"},
        "incident": {"type": ["string", "null"]},
        "detail": {"type": "object"},
    },
}
_COUNTS = {
    "type": "object",
    "additionalProperties": {"type": "integer"},
    "description": "deliveries by state",
}
_DRAFT_REFUSALS = {
    400: "the body is not valid JSON or does not fit",
    401: "no or wrong token",
    403: _DRAFT_SCOPE,
    404: "no such incident",
    409: "no draft waits, or a newer one than `seq`",
}


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: dict[int, str]  # status -> what it means
    body: type[BaseModel] | None = None
    reply: dict[str, Any] = field(default_factory=dict)  # schema of the success reply
    public: bool = False  # answers without a credential
    ref: bool = False  # the path holds {ref}
    media: str = "application/json"  # of the success reply; the sign-in pages answer text/html
    page: bool = False  # an HTML page of the console (or a form post that redirects), not JSON


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/healthz"): Operation(
        "Alive, and sending only what it can record",
        {200: "ok", 503: "the store refuses writes (sending paused) or a dispatcher loop stopped"},
        reply=_HEALTH,
        public=True,
    ),
    ("GET", "/readyz"): Operation(
        "Ready for work: the store answers and the dispatcher runs",
        {200: "ready", 503: "not ready; `problems` says why"},
        reply=_HEALTH,
        public=True,
    ),
    ("GET", "/openapi.json"): Operation("This document", {200: "the OpenAPI document"}, public=True),
    ("GET", "/api/incidents"): Operation(
        "Recent incidents, newest first",
        {
            200: "the incidents",
            401: "no or wrong token",
            403: _ROLE,
            429: "too many wrong tokens from this address",
        },
        reply={
            "type": "array",
            "items": {
                "type": "object",
                "required": ["ref", "title", "status", "severity", "audience", "created_at", "exercise"],
                "properties": {
                    "ref": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "string"},
                    "severity": {"type": "string"},
                    "audience": {"type": "string"},
                    "created_at": {"type": "number"},
                    "exercise": {"type": "boolean", "description": "a drill: test endpoints only"},
                    "draft": {
                        "type": ["string", "null"],
                        "enum": ["opening", "update", "discarded", None],
                        "description": "a monitor's draft waits for a person: its first message "
                        "(opening) or a later update; discarded: its first message never went out",
                    },
                },
            },
        },
    ),
    ("POST", "/api/incidents"): Operation(
        "Open an incident and queue its first message for every practice in the audience",
        {
            201: "opened; the dispatcher is sending",
            400: "the body is not valid JSON or does not fit; `details` names each field",
            401: "no or wrong token",
            403: _SCOPE,
            422: "refused: audience, content, confidentiality or a missing setting; nothing was sent",
            429: "too many wrong tokens from this address",
        },
        body=SendBody,
        reply=_OPENED,
    ),
    ("GET", "/api/incidents/{ref}"): Operation(
        "One incident with its updates and their delivery counts",
        {
            200: "the incident",
            401: "no or wrong token",
            403: _SCOPE,
            404: "no such incident, or not a reference",
        },
        reply={
            "type": "object",
            "required": ["ref", "title", "status", "updates"],
            "properties": {
                "ref": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "string"},
                "waiting_draft": {
                    "type": ["integer", "null"],
                    "description": "the update waiting for a person to confirm or discard it",
                },
                "updates": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["seq", "status", "message", "author", "deliveries"],
                        "properties": {
                            "seq": {"type": "integer"},
                            "status": {"type": "string"},
                            "message": {"type": "string"},
                            "author": {"type": "string"},
                            "draft": {
                                "type": ["string", "null"],
                                "enum": ["waiting", "confirmed", "discarded", None],
                                "description": "a monitor's draft; null: sent when written",
                            },
                            "decided_by": {"type": ["string", "null"]},
                            "deliveries": _COUNTS,
                        },
                    },
                },
            },
        },
        ref=True,
    ),
    ("POST", "/api/incidents/{ref}/updates"): Operation(
        "Post an update into the incident's threads",
        {
            201: "posted; the dispatcher is sending",
            400: "the body is not valid JSON or does not fit",
            401: "no or wrong token",
            403: _SCOPE,
            404: "no such incident",
            409: "the incident is resolved (reopen it first), or a monitor's draft waits on it",
            422: "refused content; nothing was sent",
        },
        body=UpdateBody,
        reply=_POSTED,
        ref=True,
    ),
    ("POST", "/api/incidents/{ref}/reopen"): Operation(
        "Reopen a resolved incident: a Reopened message on the same threads, texts included",
        {
            201: "reopened; the dispatcher is sending",
            400: "the body is not valid JSON or does not fit",
            401: "no or wrong token",
            403: _SCOPE,
            404: "no such incident",
            409: "the incident is not resolved",
            422: "refused content; nothing was sent",
        },
        body=ReopenBody,
        reply=_POSTED,
        ref=True,
    ),
    ("POST", "/api/incidents/{ref}/confirm"): Operation(
        "Confirm the draft a monitor raised (a check's or an alert's draft policy): it is sent as "
        'written. Body: {} or {"seq": N}, the draft read, refused if a newer one waits',
        {
            201: "confirmed; the dispatcher is sending",
            **_DRAFT_REFUSALS,
        },
        body=DraftDecisionBody,
        reply=_POSTED,
        ref=True,
    ),
    ("POST", "/api/incidents/{ref}/discard"): Operation(
        "Discard the draft a monitor raised: none of it is sent (a discarded opening ends the "
        'incident, never public). Body: {} or {"seq": N}',
        {
            200: "discarded",
            **_DRAFT_REFUSALS,
        },
        body=DraftDecisionBody,
        reply={
            "type": "object",
            "required": ["ref", "seq", "discarded"],
            "properties": {
                "ref": {"type": "string"},
                "seq": {"type": "integer"},
                "discarded": {"type": "integer", "description": "messages dropped, never sent"},
            },
        },
        ref=True,
    ),
    ("GET", "/api/incidents/{ref}/deliveries"): Operation(
        "The delivery grid of an update (?update=N, default the latest, or ?update=all): one row "
        "per practice, channel and recipient; a practice account gets only its practices' rows",
        {200: "the grid", 401: "no or wrong token", 403: _SCOPE, 404: "no such incident or update"},
        reply={
            "type": "object",
            "required": ["ref", "update", "deliveries", "attention"],
            "properties": {
                "ref": {"type": "string"},
                "update": {"type": ["integer", "string"]},
                "deliveries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["update", "practice", "channel", "recipient", "state", "attempts"],
                        "properties": {
                            "update": {"type": "integer"},
                            "practice": {"type": "string"},
                            "channel": {"type": "string"},
                            "recipient": {"type": "string"},
                            "state": {"type": "string"},
                            "attempts": {"type": "integer"},
                            "reason": {"type": ["string", "null"]},
                            "delivered_at": {"type": ["number", "null"]},
                        },
                    },
                },
                "attention": {"type": "array", "items": {"type": "object"}},
            },
        },
        ref=True,
    ),
    ("GET", "/api/audit"): Operation(
        "The audit trail, newest first (admin); ?limit=N (default 100) and ?before=ID to page back",
        {200: "the events", 400: "a bad limit or before", 401: "no or wrong token", 403: _ROLE},
        reply={
            "type": "object",
            "required": ["events"],
            "properties": {"events": {"type": "array", "items": _AUDIT_EVENT}},
        },
    ),
    ("GET", "/api/audit.csv"): Operation(
        "The audit trail as a CSV download (admin); the export is itself audited",
        {200: "the CSV", 400: "a bad limit or before", 401: "no or wrong token", 403: _ROLE},
        media="text/csv",
    ),
    ("GET", "/metrics"): Operation(
        "Delivery metrics in Prometheus's text format (admin, or anyone with "
        "BROADCASTER_WEB__METRICS_OPEN=true)",
        {200: "the metrics", 401: "no or wrong token", 403: _ROLE},
        media="text/plain",
    ),
    ("GET", "/login"): Operation(
        "Sign-in page: name and password", {200: "the form"}, public=True, media="text/html"
    ),
    ("POST", "/login"): Operation(
        "Check the name and password (form fields name, password, csrf_token)",
        {
            303: "right: on to /login/code",
            401: "wrong name or password (the form again)",
            403: "the CSRF token is missing or wrong",
            429: "too many failed sign-ins for this name or address; Retry-After",
        },
        public=True,
        media="text/html",
    ),
    ("GET", "/login/code"): Operation(
        "Second-factor page",
        {200: "the form", 303: "no password step pending: to /login"},
        public=True,
        media="text/html",
    ),
    ("POST", "/login/code"): Operation(
        "Check the TOTP or recovery code (form fields code, csrf_token)",
        {
            303: "right: signed in, on to /account",
            401: "wrong or used code (the form again)",
            403: "the CSRF token is missing or wrong",
            429: "too many failed sign-ins; Retry-After",
        },
        public=True,
        media="text/html",
    ),
    ("GET", "/account"): Operation(
        "Who is signed in, with the sign-out button",
        {200: "the page", 303: "not signed in: to /login"},
        media="text/html",
    ),
    ("POST", "/logout"): Operation(
        "End the session (form field csrf_token)",
        {303: "signed out: to /login", 403: "the CSRF token is missing or wrong"},
        public=True,
        media="text/html",
    ),
}


def _page(
    summary: str, answers: dict[int, str] | None = None, *, public: bool = False, ref: bool = False
) -> Operation:
    """A console page or form: HTML, signed in by the session cookie (forms carry a CSRF token)."""
    return Operation(summary, answers or {200: "the page"}, public=public, ref=ref, page=True)


OPERATIONS.update(
    {
        ("GET", "/api/incidents/{ref}/deliveries"): Operation(
            "The delivery grid: one row per practice x channel x recipient (?update=N or all)",
            {
                200: "the rows",
                401: "no or wrong credential",
                403: "not this role or practice",
                404: "no such incident or update",
            },
            reply={"type": "object", "required": ["ref", "update", "deliveries", "attention"]},
            ref=True,
        ),
        ("GET", "/api/audit"): Operation(
            "The audit trail, newest first (admins)",
            {200: "the entries", 401: "no or wrong credential", 403: "not an admin"},
            reply={"type": "array", "items": {"type": "object"}},
        ),
        ("GET", "/api/audit.csv"): _page(
            "The audit trail as CSV (admins)", {200: "the CSV", 401: "no credential", 403: "not an admin"}
        ),
        ("GET", "/login"): _page("The sign-in form", public=True),
        ("POST", "/login"): _page(
            "Check a name and password; 303 to /login/code",
            {303: "on to the code", 401: "wrong name or password", 403: "CSRF token missing", 429: "wait"},
            public=True,
        ),
        ("GET", "/login/code"): _page(
            "The second-factor form", {200: "the page", 303: "start again"}, public=True
        ),
        ("POST", "/login/code"): _page(
            "Check the code; 303 to the console",
            {303: "signed in", 401: "wrong code", 403: "CSRF token missing", 429: "wait"},
            public=True,
        ),
        ("GET", "/account"): _page("Who is signed in", {200: "the page", 303: "not signed in"}),
        ("POST", "/logout"): _page("Sign out", {303: "signed out"}, public=True),
    }
)

_PREVIEW = {
    "type": "object",
    "required": ["practices", "deliveries", "by_channel", "sms", "confidentiality", "messages"],
    "properties": {
        "practices": {"type": "integer"},
        "deliveries": {"type": "integer"},
        "by_channel": _COUNTS,
        "sms": {
            "type": "object",
            "description": "segments, cost_pounds, price_per_segment_pence, normalised",
        },
        "confidentiality": {
            "type": "object",
            "description": "verdict: clear, overridden, or needs a reason (confidentiality_override)",
        },
        "messages": {"type": "array", "items": {"type": "object"}},
    },
}
_REFUSALS = {400: "the body does not fit", 401: "no or wrong credential", 403: "not this role or practice"}
OPERATIONS.update(
    {
        ("POST", "/api/incidents/preview"): Operation(
            "What an opening would send (from a runbook or free text), per practice and channel, "
            "with SMS segments, cost and the confidentiality verdict; nothing is sent",
            {200: "the preview", **_REFUSALS, 422: "refused: audience, fields, limits; nothing to preview"},
            body=SendBody,
            reply=_PREVIEW,
        ),
        ("POST", "/api/incidents/{ref}/updates/preview"): Operation(
            "What an update would send; without a message, the runbook's wording for the status",
            {200: "the preview", **_REFUSALS, 404: "no such incident", 409: "resolved", 422: "refused"},
            body=UpdateSendBody,
            reply=_PREVIEW,
            ref=True,
        ),
        ("POST", "/api/incidents/{ref}/retry"): Operation(
            "Send again what failed for one practice and channel of an update (default the latest)",
            {
                202: "queued again",
                **_REFUSALS,
                404: "no such incident or update",
                422: "nothing failed there",
            },
            body=RetryBody,
            reply={"type": "object", "required": ["ref", "retried"]},
            ref=True,
        ),
        ("GET", "/api/runbooks"): Operation(
            "The runbooks and the fields each needs",
            {200: "the runbooks", 401: "no or wrong credential", 403: "not this role"},
            reply={"type": "array", "items": {"type": "object"}},
        ),
        ("GET", "/api/practices"): Operation(
            "The practices this principal may send to; recipients only for roles that read the grid",
            {200: "the practices", 401: "no or wrong credential", 403: "not this role"},
            reply={"type": "array", "items": {"type": "object"}},
        ),
        ("GET", "/api/users"): Operation(
            "The users (admins): names, roles, practices; never a hash or secret",
            {200: "the users", 401: "no or wrong credential", 403: "not an admin"},
            reply={"type": "array", "items": {"type": "object"}},
        ),
        ("GET", "/"): _page("The incidents this user may see", {200: "the page", 303: "not signed in"}),
        ("GET", "/send"): _page("Choose a runbook or free text", {200: "the page", 303: "not signed in"}),
        ("GET", "/send/compose"): _page(
            "Fill the fields, audience and channels", {200: "the page", 404: "no runbook"}
        ),
        ("POST", "/send/preview"): _page(
            "The preview, per channel, and the confidentiality verdict", {200: "the page", 422: "refused"}
        ),
        ("POST", "/send"): _page("Open the incident; 303 to its page", {303: "opened", 422: "refused"}),
        ("GET", "/incidents/{ref}"): _page(
            "The incident and its grid", {200: "the page", 403: "not this practice"}, ref=True
        ),
        ("GET", "/incidents/{ref}/events"): _page(
            "Server-Sent Events: the grid's cells as they change", ref=True
        ),
        ("POST", "/incidents/{ref}/updates"): _page(
            "Post an update, resolve or reopen; 303 back", {303: "posted", 422: "refused"}, ref=True
        ),
        ("POST", "/incidents/{ref}/retry"): _page(
            "Retry a failed cell; 303 back", {303: "queued again", 422: "nothing failed"}, ref=True
        ),
        ("POST", "/incidents/{ref}/confirm"): _page(
            "Confirm and send a monitor's draft (form field seq: the draft shown); 303 back",
            {303: "confirmed", 403: "reaches other practices", 409: "no such draft waits"},
            ref=True,
        ),
        ("POST", "/incidents/{ref}/discard"): _page(
            "Discard a monitor's draft (form field seq: the draft shown); 303 back",
            {303: "discarded", 403: "reaches other practices", 409: "no such draft waits"},
            ref=True,
        ),
        ("GET", "/manifest.webmanifest"): _page("The web app manifest", public=True),
        ("GET", "/static/{name}"): _page(
            "The console's stylesheet, script and icons", {200: "the file", 404: "no such file"}, public=True
        ),
    }
)

_HOOK_RESULTS = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["cause", "outcome", "incident"],
                "properties": {
                    "cause": {"type": "string", "example": "alertmanager:6c1f0e2ab3"},
                    "outcome": {"enum": [o.value for o in Outcome]},
                    "incident": {"type": ["string", "null"], "example": "INC-42"},
                },
            },
        }
    },
}
_HOOK_ANSWERS = {
    200: "acted on: one result per alert (a repeat is `unchanged`)",
    400: "the body does not fit the monitor's payload",
    401: "no or wrong token",
    403: "the token's role is not monitor or admin",
    404: "an incident the cause had opened is gone",
    409: "an update raced another; send it again",
    422: "an alert names no known practice, runbook or wording (nothing of the delivery was acted on)",
    429: "too many wrong tokens from this address",
}
_HOOK_QUERY = " The URL's query may give `ods`, `group` and `runbook` for alerts that do not."
OPERATIONS.update(
    {
        ("POST", "/api/hooks/alertmanager"): Operation(
            "Prometheus Alertmanager's webhook (version 4): each alert opens, updates or resolves "
            "the incident for its cause (label `cause`, else its fingerprint); labels `ods`, "
            "`group`, `runbook` and the runbook's fields from labels and annotations." + _HOOK_QUERY,
            _HOOK_ANSWERS,
            body=AlertmanagerPayload,
            reply=_HOOK_RESULTS,
        ),
        ("POST", "/api/hooks/uptime-kuma"): Operation(
            "Uptime Kuma's webhook: down (0) opens, up (1) resolves the incident for the monitor; "
            "the monitor's tags `ods`, `group`, `runbook` and runbook fields." + _HOOK_QUERY,
            _HOOK_ANSWERS,
            body=KumaPayload,
            reply=_HOOK_RESULTS,
        ),
        ("POST", "/api/hooks/generic"): Operation(
            "One alert in the generic form: `key` names the cause, `status` firing or resolved."
            + _HOOK_QUERY,
            _HOOK_ANSWERS,
            body=GenericAlert,
            reply=_HOOK_RESULTS,
        ),
    }
)

PUBLIC_PATHS = frozenset(path for (_method, path), op in OPERATIONS.items() if op.public)


def openapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string", "description": "what was wrong and what to do"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    }
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in OPERATIONS.items():
        described: dict[str, Any] = {
            "summary": op.summary,
            "operationId": _operation_id(method, path),
            "responses": {
                str(status): _answer(status, meaning, op) for status, meaning in op.answers.items()
            },
        }
        if not op.public:
            described["security"] = [{"token": []}, {"session": []}]
        if op.ref:
            described["parameters"] = [_REF]
        elif "{name}" in path:
            described["parameters"] = [
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
            ]
        if op.body is not None:
            name = op.body.__name__
            schemas[name] = op.body.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schemas[name].pop("$defs", {}))
            described["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
            }
        paths.setdefault(path, {})[method.lower()] = described
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Practice broadcaster",
            "version": "1",
            "description": "Open incidents, post updates and read what landed where. "
            "Every refusal is a JSON body saying what was wrong.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `broadcaster tokens add`, or BROADCASTER_API_TOKEN",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "broadcaster_session",
                    "description": "signed in at /login; writes also need the X-CSRF-Token header",
                },
            },
        },
    }


def _operation_id(method: str, path: str) -> str:
    """("POST", "/api/incidents/{ref}/updates") -> "post_api_incidents_ref_updates"."""
    words = path.strip("/").replace("{", "").replace("}", "").replace(".", "_").split("/")
    return "_".join([method.lower(), *words])


def _answer(status: int, meaning: str, op: Operation) -> dict[str, Any]:
    if op.page:
        return {"description": meaning, "content": {"text/html": {"schema": {"type": "string"}}}}
    if 300 <= status < 400:
        return {"description": meaning}  # a redirect: Location says where
    if op.media == "text/html" and status != 403:  # pages answer pages; a CSRF refusal is JSON
        return {"description": meaning, "content": {"text/html": {"schema": _PAGE}}}
    if op.media != "application/json" and status < 400:
        return {"description": meaning, "content": {op.media: {"schema": {"type": "string"}}}}
    # Health probes answer 503 in their own shape; every other refusal is an Error.
    success_shaped = status < 400 or (status == 503 and op.public)
    schema = (op.reply or {"type": "object"}) if success_shaped else _ERROR
    return {"description": meaning, "content": {"application/json": {"schema": schema}}}


async def serve_document(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
