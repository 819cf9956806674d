"""The incidents a user may see, one incident with its live grid, and the forms that act on it
(post an update, resolve, reopen, retry a failed cell, confirm or discard a monitor's draft):
each posts and redirects back."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from html import escape

from aiohttp import web

from broadcaster.accounts.permissions import Principal
from broadcaster.core.errors import BroadcasterError
from broadcaster.core.incident_refs import update_number
from broadcaster.core.models import ChannelKind, DeliveryState, IncidentStatus
from broadcaster.incidents.queries import IncidentQueries, IncidentView
from broadcaster.web.app_keys import DIRECTORY, DISPATCHER, ENGINE, SERVICE, SETTINGS
from broadcaster.web.auth import actor_of, principal_of
from broadcaster.web.bodies import BodyRefused
from broadcaster.web.console.draft_forms import draft_badge, draft_panel
from broadcaster.web.console.grid_cells import grid_html
from broadcaster.web.console.layout import console_page, csrf_field, html_refusals, problem
from broadcaster.web.console.scope import decidable_incident, may_decide, reach, visible_incident
from broadcaster.web.console.send_requests import SHELF, UpdateSendBody, update_request


@html_refusals
async def incidents_page(request: web.Request) -> web.Response:
    who = principal_of(request)
    found = [
        r
        for r in await IncidentQueries(request.app[ENGINE]).recent()
        if who.scope is None or who.sees_any(reach(request, r.audience))
    ]
    items = "".join(
        f'<li><a href="/incidents/{r.ref}"><strong>{r.ref}</strong> {escape(r.title)}</a>'
        f'<br><span class="state {r.status.value}">{r.status.value}</span>{draft_badge(r)} '
        f"<small>{escape(r.audience.describe())}, {_when(r.created_at)}</small></li>"
        for r in found
    )
    scope = f" for {', '.join(sorted(who.scope))}" if who.scope else ""
    body = (
        f'<p><a class="button" href="/send">Send a new incident</a></p>'
        f"<p>Incidents{escape(scope)}, newest first.</p>"
        + (f'<ul class="incidents">{items}</ul>' if items else "<p>No incidents yet.</p>")
    )
    return console_page("Incidents", body, who=who)


def _when(at: float) -> str:
    return time.strftime("%d %b %H:%M", time.localtime(at))


@html_refusals
async def incident_page(request: web.Request) -> web.Response:
    who = principal_of(request)
    incident_id = await visible_incident(request, who)
    return await _incident_page(request, who, incident_id)


async def _incident_page(
    request: web.Request,
    who: Principal,
    incident_id: int,
    *,
    problem_text: str | None = None,
    status: int = 200,
    typed: Mapping[str, str] | None = None,
) -> web.Response:
    queries = IncidentQueries(request.app[ENGINE])
    seq = _update_param(request)
    grid = await queries.grid(incident_id, seq=seq, practices=who.scope)
    incident = grid.incident
    csrf = await csrf_field(request)
    counts = grid.shown_counts()
    table = grid_html(grid, request.app[DIRECTORY], csrf=csrf, may_retry=True)
    shown = grid.shown_seq
    others = " ".join(
        f'<a href="/incidents/{incident.ref}?update={u.record.seq}"'
        + (' aria-current="page"' if u.record.seq == shown else "")
        + f">{u.record.seq}</a>"
        for u in incident.updates
    )
    body = (
        problem(problem_text)
        + draft_panel(incident, csrf, may_decide=may_decide(request, who, incident.summary.audience))
        + f'<p><span class="state {incident.summary.status.value}">{incident.summary.status.value}</span> '
        f"{escape(incident.summary.title)}{draft_badge(incident.summary)}; "
        f"{escape(incident.summary.audience.describe())}</p>"
        + _thread(incident)
        + f'<p id="summary" aria-live="polite">{escape(summary_text(counts))}</p>'
        + f'<div class="scroll">{table}</div>'
        + f'<p class="updates">Updates: {others} '
        f'<a href="/incidents/{incident.ref}?update={shown}">Refresh</a></p>'
        + await _update_forms(request, incident, who, typed or {})
    )
    return console_page(f"{incident.ref}", body, who=who, status=status, script=True)


def summary_text(counts: Counter[DeliveryState]) -> str:
    if not counts:
        return "Nothing to deliver."
    order = [s for s in DeliveryState if counts.get(s)]
    done = sum(n for state, n in counts.items() if state.is_final)  # a discarded draft's too
    parts = ", ".join(f"{counts[s]} {s.value}" for s in order)
    return f"{done} of {sum(counts.values())} settled: {parts}."


def _thread(incident: IncidentView) -> str:
    items = "".join(
        f"<li><strong>{u.record.seq}. {u.record.status.value}</strong> by {escape(u.record.author)}"
        f'<br><span class="message">{escape(u.record.message[:280])}</span></li>'
        for u in reversed(incident.updates)
    )
    return (
        f'<details class="thread"><summary>Thread ({len(incident.updates)} messages)</summary>'
        f"<ol reversed>{items}</ol></details>"
    )


async def _update_forms(
    request: web.Request, incident: IncidentView, who: Principal, typed: Mapping[str, str]
) -> str:
    """The forms, filled in with what was `typed` when a post of them was refused."""
    if incident.waiting_draft is not None:  # the store refuses updates past it: decide it first
        return "<p>Confirm or discard the draft above before posting an update.</p>"
    if not incident.summary.sent:  # its first message was discarded: there is no thread to reopen
        return "<p>Its first message was discarded, never sent: send a new incident if it is needed.</p>"
    csrf = await csrf_field(request)
    message, override = escape(typed.get("message", "")), escape(typed.get("confidentiality_override", ""))
    ref, runbook = incident.ref, incident.summary.runbook is not None
    hint = ("Leave it blank to use the runbook's wording. " if runbook else "") + (
        f"It goes to {', '.join(sorted(who.scope))} only." if who.scope else ""
    )
    if incident.summary.status is IncidentStatus.RESOLVED:
        return (
            f'<h2>Reopen</h2><form method="post" action="/incidents/{ref}/updates">{csrf}'
            '<input type="hidden" name="status" value="investigating">'
            '<input type="hidden" name="reopen" value="on">'
            '<p><label for="message">What has happened</label>'
            f'<textarea id="message" name="message" rows="3" required>{message}</textarea></p>'
            '<p><button type="submit">Reopen and send</button></p></form>'
        )
    options = "".join(
        f'<option value="{s.value}"{" selected" if typed.get("status") == s.value else ""}>{s.value}</option>'
        for s in IncidentStatus
        if s is not IncidentStatus.INVESTIGATING
    )
    sms = " checked" if typed.get("sms") == "on" else ""
    resolve = (
        f'<form method="post" action="/incidents/{ref}/updates">{csrf}'
        '<input type="hidden" name="status" value="resolved">'
        '<p><button type="submit" class="secondary">Resolve with the runbook wording</button></p></form>'
        if runbook
        else ""
    )
    return (
        f'<h2>Post an update</h2><form method="post" action="/incidents/{ref}/updates">{csrf}'
        f'<p><label for="status">Status</label><select id="status" name="status">{options}</select></p>'
        '<p><label for="message">Message</label><textarea id="message" name="message" rows="3"'
        f'{"" if runbook else " required"} aria-describedby="message-hint">{message}</textarea>'
        f'<small id="message-hint">{escape(hint)}</small></p>'
        f'<p><label><input type="checkbox" name="sms" value="on"{sms}>'
        " Also send by text (costs money)</label></p>"
        '<p><label for="override">Confidentiality override reason (only if the check refuses it)</label>'
        f'<input id="override" name="confidentiality_override" value="{override}"></p>'
        f'<p><button type="submit">Send update</button></p></form>{resolve}'
    )


def _update_param(request: web.Request) -> int | None:
    value = request.query.get("update", "")
    return update_number(value)


@html_refusals
async def post_update_form(request: web.Request) -> web.Response:
    who = principal_of(request)
    incident_id = await visible_incident(request, who)
    form = await request.post()
    message = str(form.get("message", "")).strip()
    override = str(form.get("confidentiality_override", "")).strip()
    try:
        body = UpdateSendBody(
            status=IncidentStatus(str(form.get("status", ""))),
            message=message or None,
            sms=True if form.get("sms") == "on" else None,
            reopen=form.get("reopen") == "on",
            confidentiality_override=override or None,
        )
    except ValueError:
        raise BodyRefused([{"field": "status", "loc": ["status"], "problem": "choose a status"}]) from None
    app = request.app
    incident = await IncidentQueries(app[ENGINE]).incident(incident_id)
    try:
        req = update_request(
            body, incident, shelf=await app[SHELF].ready(), settings=app[SETTINGS], practices=who.scope
        )
        await app[SERVICE].post_update(incident_id, req, actor=actor_of(request))
    except BroadcasterError as exc:  # shown above the forms, which keep what was typed
        typed = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        return await _incident_page(request, who, incident_id, problem_text=str(exc), status=422, typed=typed)
    app[DISPATCHER].wake()
    raise web.HTTPSeeOther(location=f"/incidents/{incident.ref}")


@html_refusals
async def retry_form(request: web.Request) -> web.Response:
    who = principal_of(request)
    incident_id = await visible_incident(request, who)
    form = await request.post()
    practice = str(form.get("practice", ""))
    who.require_practices([practice], what="retry deliveries")
    try:
        channel = ChannelKind(str(form.get("channel", "")))
    except ValueError:
        raise BodyRefused([{"field": "channel", "loc": ["channel"], "problem": "not a channel"}]) from None
    seq = str(form.get("update", ""))
    await request.app[SERVICE].retry_failed(
        incident_id,
        seq=update_number(seq),
        practice=practice,
        channel=channel,
        actor=actor_of(request),
    )
    request.app[DISPATCHER].wake()
    ref = f"INC-{incident_id}"
    raise web.HTTPSeeOther(location=f"/incidents/{ref}" + (f"?update={seq}" if seq.isdigit() else ""))


@html_refusals
async def decide_draft_form(request: web.Request) -> web.Response:
    """Confirm (send) or discard the draft the form names; refused as a page above the grid."""
    who = principal_of(request)
    incident_id = await decidable_incident(request, who)
    form = await request.post()
    service, confirm = request.app[SERVICE], request.path.endswith("/confirm")
    decide = service.confirm_draft if confirm else service.discard_draft
    try:
        await decide(incident_id, seq=update_number(str(form.get("seq", ""))), actor=actor_of(request))
    except BroadcasterError as exc:  # a newer draft, or already decided by someone else
        return await _incident_page(request, who, incident_id, problem_text=str(exc), status=409)
    if confirm:
        request.app[DISPATCHER].wake()
    raise web.HTTPSeeOther(location=f"/incidents/INC-{incident_id}")
