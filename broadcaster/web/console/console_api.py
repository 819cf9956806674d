"""The JSON API behind the console's actions: previews, retrying a failed cell, the runbooks,
the practices (recipients only for a role that may see them) and, for admins, the users."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from broadcaster.accounts.permissions import Action
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.web.app_keys import DIRECTORY, DISPATCHER, ENGINE, SERVICE, SETTINGS
from broadcaster.web.auth import actor_of, principal_of
from broadcaster.web.bodies import parse_body
from broadcaster.web.console.scope import reach, visible_incident
from broadcaster.web.console.send_requests import (
    SHELF,
    RetryBody,
    SendBody,
    UpdateSendBody,
    incident_request,
    preview_json,
    previewable,
    update_request,
    verdict_of,
)
from broadcaster.web.sign_in_pages import ACCOUNTS


async def preview_opening(request: web.Request) -> web.Response:
    """What POST /api/incidents would send, per practice and channel, and the verdict."""
    who, app = principal_of(request), request.app
    body = parse_body(SendBody, await request.read())
    wanted = incident_request(body, shelf=await app[SHELF].ready(), settings=app[SETTINGS])
    who.require_practices(reach(request, wanted.audience), what="open incidents")
    verdict = verdict_of(wanted.title, wanted.content)
    preview = app[SERVICE].preview_opening(replace(wanted, content=previewable(wanted.content, verdict)))
    return web.json_response(
        {
            "title": wanted.title,
            **preview_json(preview, verdict, show_recipients=who.may(Action.READ_DELIVERIES)),
        }
    )


async def preview_update(request: web.Request) -> web.Response:
    who, app = principal_of(request), request.app
    incident_id = await visible_incident(request, who)
    body = parse_body(UpdateSendBody, await request.read())
    incident = await IncidentQueries(app[ENGINE]).incident(incident_id)
    wanted = update_request(
        body, incident, shelf=await app[SHELF].ready(), settings=app[SETTINGS], practices=who.scope
    )
    verdict = verdict_of(incident.summary.title, wanted.content)
    preview = await app[SERVICE].preview_update(
        incident_id, replace(wanted, content=previewable(wanted.content, verdict))
    )
    return web.json_response(
        {
            "ref": incident.ref,
            **preview_json(preview, verdict, show_recipients=who.may(Action.READ_DELIVERIES)),
        }
    )


async def retry_cell(request: web.Request) -> web.Response:
    """Send again what failed for one practice and channel of an update (default the latest)."""
    who, app = principal_of(request), request.app
    incident_id = await visible_incident(request, who)
    body = parse_body(RetryBody, await request.read())
    who.require_practices([body.practice], what="retry deliveries")
    count = await app[SERVICE].retry_failed(
        incident_id, seq=body.update, practice=body.practice, channel=body.channel, actor=actor_of(request)
    )
    app[DISPATCHER].wake()
    return web.json_response({"ref": f"INC-{incident_id}", "retried": count}, status=202)


async def runbooks_index(request: web.Request) -> web.Response:
    books = (await request.app[SHELF].ready()).runbooks
    return web.json_response(
        [
            {
                "name": name,
                "title": b.spec.title,
                "severity": b.spec.severity.value,
                "summary": b.spec.summary,
                "sms_segments": b.spec.sms_segments,
                "fields": [
                    {"name": f, "prompt": s.prompt, "example": s.example, "default": s.default}
                    for f, s in b.spec.fields.items()
                ],
            }
            for name, b in sorted(books.items())
        ]
    )


async def practices_index(request: web.Request) -> web.Response:
    """The directory as a sender needs it: names, groups, channels and how many recipients each;
    the numbers and addresses themselves only for a role that reads the delivery grid."""
    who = principal_of(request)
    directory = request.app[DIRECTORY]
    show = who.may(Action.READ_DELIVERIES)
    out = []
    for p in directory.practices:
        if who.scope is not None and p.ods not in who.scope:
            continue
        channels: dict[str, dict[str, object]] = {}
        for e in directory.endpoints(p):
            entry = channels.setdefault(e.channel.value, {"recipients": 0, **({"to": []} if show else {})})
            entry["recipients"] = int(str(entry["recipients"])) + 1
            if show:
                to = entry["to"]
                assert isinstance(to, list)
                to.append(e.recipient)
        out.append({"ods": p.ods, "name": p.name, "groups": p.groups, "channels": channels})
    return web.json_response(out)


async def users_index(request: web.Request) -> web.Response:
    users = await request.app[ACCOUNTS].users()
    return web.json_response(
        [
            {
                "name": u.name,
                "role": u.role.value,
                "ods": list(u.ods_codes),
                "disabled": u.disabled,
                "created_at": u.created_at,
                "recovery_codes_left": u.recovery_codes_left,
            }
            for u in users
        ]
    )
