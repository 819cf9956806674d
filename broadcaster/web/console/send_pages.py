"""The send flow, one plain form per step: choose a runbook (or free text), fill its fields and
choose the audience and channels, see the preview per channel with SMS segments, cost and the
confidentiality check's verdict, confirm. Each step posts; the last redirects to the incident."""

from __future__ import annotations

import json
from dataclasses import replace
from html import escape
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from pydantic import ValidationError

from broadcaster.accounts.permissions import Principal
from broadcaster.content.preview import SendPreview
from broadcaster.core.errors import BroadcasterError
from broadcaster.core.models import ChannelKind, Severity
from broadcaster.web.app_keys import DIRECTORY, DISPATCHER, SERVICE, SETTINGS
from broadcaster.web.auth import actor_of, principal_of
from broadcaster.web.bodies import BodyRefused, parse_body
from broadcaster.web.console.grid_cells import CHANNEL_NAMES
from broadcaster.web.console.layout import console_page, csrf_field, html_refusals, problem
from broadcaster.web.console.scope import reach
from broadcaster.web.console.send_requests import (
    SHELF,
    SendBody,
    Verdict,
    incident_request,
    previewable,
    verdict_of,
)

_FIELD_PREFIX = "field."


@html_refusals
async def choose_page(request: web.Request) -> web.Response:
    who = principal_of(request)
    books = (await request.app[SHELF].ready()).runbooks
    items = "".join(
        f'<li><a href="/send/compose?runbook={name}"><strong>{escape(b.spec.title)}</strong></a>'
        f"<br><small>{escape(b.spec.summary)}</small></li>"
        for name, b in sorted(books.items())
    )
    body = (
        "<p>Choose a pre-approved runbook, or write the message yourself.</p>"
        f'<ul class="runbooks">{items}<li><a href="/send/compose"><strong>Free text</strong></a>'
        "<br><small>Your own title and message, with the same checks.</small></li></ul>"
    )
    return console_page("Send", body, who=who)


@html_refusals
async def compose_page(request: web.Request) -> web.Response:
    return await _compose(request, dict(request.query), None)


async def _compose(
    request: web.Request, given: dict[str, Any], problem_text: str | None, status: int = 200
) -> web.Response:
    who = principal_of(request)
    name = str(given.get("runbook", "")) or None
    book = (await request.app[SHELF].ready()).get(name) if name else None
    parts = [problem(problem_text), f'<form method="post" action="/send/preview">{await csrf_field(request)}']
    if book is not None:
        parts.append(f'<input type="hidden" name="runbook" value="{escape(name or "")}">')
        parts.append(f"<p>{escape(book.spec.summary)}</p>")
        for field, spec in book.spec.fields.items():
            value = given.get(_FIELD_PREFIX + field, spec.default or "")
            parts.append(
                f'<p><label for="f-{field}">{escape(spec.prompt)}</label>'
                f'<input id="f-{field}" name="{_FIELD_PREFIX}{field}" value="{escape(str(value))}"'
                f' placeholder="{escape(spec.example)}"{"" if spec.default else " required"}></p>'
            )
    else:
        severities = "".join(
            f'<option value="{s.value}"{" selected" if s is Severity.MAJOR else ""}>{s.value}</option>'
            for s in Severity
        )
        parts.append(
            f'<p><label for="title">Title</label><input id="title" name="title" maxlength="200" required'
            f' value="{escape(str(given.get("title", "")))}"></p>'
            '<p><label for="message">Message</label><textarea id="message" name="message" rows="5" required>'
            f"{escape(str(given.get('message', '')))}</textarea></p>"
            '<p><label for="severity">Severity</label>'
            f'<select id="severity" name="severity">{severities}</select></p>'
        )
    parts.append(_audience_fieldset(request, who))
    checked = (
        {ChannelKind(c) for c in given.get("channel", [])}
        if isinstance(given.get("channel"), list)
        else set(ChannelKind)
    )
    boxes = "".join(
        f'<label><input type="checkbox" name="channel" value="{c.value}"{" checked" if c in checked else ""}>'
        f" {CHANNEL_NAMES[c]}</label> "
        for c in ChannelKind
    )
    parts.append(f"<fieldset><legend>Channels</legend>{boxes}</fieldset>")
    parts.append('<p><button type="submit">Preview</button></p></form>')
    title = book.spec.title if book is not None else "Free text"
    return console_page(title, "".join(parts), who=who, status=status)


def _audience_fieldset(request: web.Request, who: Principal) -> str:
    directory = request.app[DIRECTORY]
    practices = [p for p in directory.practices if who.scope is None or p.ods in who.scope]
    boxes = "".join(
        f'<label><input type="checkbox" name="ods" value="{p.ods}"> {escape(p.name)} '
        f"<small>{p.ods}</small></label><br>"
        for p in practices
    )
    if who.scope is not None:  # a practice user: only its own practices
        return f"<fieldset><legend>Practices</legend>{boxes}</fieldset>"
    groups = "".join(f'<option value="{escape(g)}">{escape(g)}</option>' for g in sorted(directory.groups()))
    return (
        "<fieldset><legend>Audience</legend>"
        '<label><input type="radio" name="audience" value="all" checked> All practices</label><br>'
        '<label><input type="radio" name="audience" value="group"> A group: </label>'
        f'<select name="group" aria-label="Group">{groups}</select><br>'
        '<label><input type="radio" name="audience" value="practices"> These practices:</label>'
        f'<div class="practices">{boxes}</div></fieldset>'
    )


def send_body_of(form: MultiDictProxy[Any], who: Principal) -> SendBody:
    """The form as the JSON API's body, so both are checked alike."""
    audience = str(form.get("audience", "practices" if who.scope is not None else "all"))
    ods = [str(v) for v in form.getall("ods", [])]
    body: dict[str, Any] = {
        "audience": {
            "all": audience == "all",
            "groups": [str(form.get("group", ""))] if audience == "group" else [],
            "ods": ods if audience == "practices" else [],
        },
        "channels": [str(v) for v in form.getall("channel", [])],
    }
    for key in ("runbook", "title", "message", "severity", "confidentiality_override"):
        value = str(form.get(key, "")).strip()
        if value:
            body[key] = value
    fields = {k[len(_FIELD_PREFIX) :]: str(v) for k, v in form.items() if k.startswith(_FIELD_PREFIX)}
    if fields:
        body["fields"] = fields
    try:
        return SendBody.model_validate(body)
    except ValidationError:
        return parse_body(SendBody, json.dumps(body).encode())


def _given(form: MultiDictProxy[Any]) -> dict[str, Any]:
    given: dict[str, Any] = {k: str(v) for k, v in form.items() if k not in {"channel", "ods", "csrf_token"}}
    given["channel"] = [str(v) for v in form.getall("channel", [])]
    return given


def _hidden(form: MultiDictProxy[Any]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(str(v))}">'
        for k, v in form.items()
        if k not in {"csrf_token", "confidentiality_override"}
    )


@html_refusals
async def preview_page(request: web.Request) -> web.Response:
    form = await request.post()
    return await _preview(request, form, None)


async def _preview(
    request: web.Request, form: MultiDictProxy[Any], problem_text: str | None, status: int = 200
) -> web.Response:
    who = principal_of(request)
    app = request.app
    try:
        body = send_body_of(form, who)
        wanted = incident_request(body, shelf=await app[SHELF].ready(), settings=app[SETTINGS])
        who.require_practices(reach(request, wanted.audience), what="open incidents")
        verdict = verdict_of(wanted.title, wanted.content)
        preview = app[SERVICE].preview_opening(replace(wanted, content=previewable(wanted.content, verdict)))
    except (BodyRefused, BroadcasterError) as exc:
        return await _compose(request, _given(form), str(exc), status=422)
    parts = [
        problem(problem_text),
        f"<h2>{escape(wanted.title)}</h2>",
        _totals(preview),
        _verdict_html(verdict),
        _per_channel(preview),
        f'<form method="post" action="/send">{await csrf_field(request)}{_hidden(form)}',
    ]
    if verdict.findings:
        parts.append(
            '<p><label for="override">Why it is safe to send anyway (kept in the audit trail)</label>'
            f'<input id="override" name="confidentiality_override" required'
            f' value="{escape(verdict.override or "")}"></p>'
        )
    parts.append('<p><button type="submit">Confirm and send</button></p></form>')
    back = "/send/compose?runbook=" + escape(body.runbook) if body.runbook else "/send/compose"
    parts.append(f'<p><a href="{back}">Start again</a></p>')
    return console_page("Check and send", "".join(parts), who=who, status=status)


def _totals(preview: SendPreview) -> str:
    by = ", ".join(f"{preview.count(c)} {CHANNEL_NAMES[c]}" for c in ChannelKind if preview.count(c))
    sms = ""
    if preview.count(ChannelKind.SMS):
        sms = (
            f"<li>Texts: {preview.count(ChannelKind.SMS)} recipients, {preview.sms_segments} segments, "
            f"estimated cost £{preview.sms_cost_pounds:.2f} "
            f"at {preview.price_per_segment_pence:g}p per segment</li>"
            f"<li>{escape(preview.sms_notes)}</li>"
        )
    return (
        f'<ul class="totals"><li>{preview.deliveries} messages to {preview.practices} practices '
        f"({by})</li>{sms}</ul>"
    )


def _verdict_html(verdict: Verdict) -> str:
    if verdict.state == "clear":
        return '<p class="verdict clear" role="status">Confidentiality check: nothing identifying found.</p>'
    found = "".join(f"<li>{escape(f.explain())}</li>" for f in verdict.findings)
    if verdict.state == "overridden":
        return (
            '<div class="verdict overridden" role="status"><p>Confidentiality check: overridden.</p>'
            f"<ul>{found}</ul></div>"
        )
    return (
        '<div class="verdict refused" role="alert"><p><strong>Confidentiality check: this looks like it '
        "identifies a patient.</strong> Change the message, or type why it is safe below.</p>"
        f"<ul>{found}</ul></div>"
    )


def _per_channel(preview: SendPreview) -> str:
    out = []
    for channel in ChannelKind:
        messages = [m for m in preview.messages if m.channel is channel]
        if not messages:
            continue
        first = messages[0]
        sms = ""
        if first.sms is not None:
            sms = (
                f"<p><small>{first.sms.encoding.value}, {first.sms.length} characters, "
                f"{first.sms.segments} segment{'s' if first.sms.segments != 1 else ''}</small></p>"
            )
        subject = f"<p><strong>Subject:</strong> {escape(first.subject)}</p>" if first.subject else ""
        out.append(
            f'<details class="channel"{" open" if channel is ChannelKind.SMS else ""}>'
            f"<summary>{CHANNEL_NAMES[channel]}: {len(messages)} practices</summary>"
            f"<p><small>As {escape(first.practice)} receives it:</small></p>"
            f"{subject}<pre>{escape(first.body)}</pre>{sms}</details>"
        )
    return "".join(out)


@html_refusals
async def send_form(request: web.Request) -> web.Response:
    who = principal_of(request)
    app = request.app
    form = await request.post()
    try:
        body = send_body_of(form, who)
        wanted = incident_request(body, shelf=await app[SHELF].ready(), settings=app[SETTINGS])
        who.require_practices(reach(request, wanted.audience), what="open incidents")
        stored = await app[SERVICE].open(wanted, actor=actor_of(request))
    except (BodyRefused, BroadcasterError) as exc:
        return await _preview(request, form, str(exc), status=422)  # refused: the preview again, saying why
    app[DISPATCHER].wake()
    raise web.HTTPSeeOther(location=f"/incidents/{stored.incident_ref}")
