"""A monitor's draft on the console: the label in the incident list, and on the incident page
what it says with Confirm and send / Discard (a health check or alert with the `draft` policy
holds its message until a person decides; broadcaster.store.drafts does the deciding)."""

from __future__ import annotations

from html import escape

from broadcaster.core.models import IncidentStatus
from broadcaster.incidents.queries import IncidentSummary, IncidentView


def draft_badge(summary: IncidentSummary) -> str:
    """DRAFT, DRAFT UPDATE or DISCARDED (never sent) beside an incident in the list; else nothing."""
    label = summary.draft_label
    return f' <span class="state draft">{escape(label)}</span>' if label else ""


def draft_panel(incident: IncidentView, csrf: str, *, may_decide: bool) -> str:
    """The waiting draft, read in full before it is decided, and the two forms that decide it
    (to someone who may). Each form names the draft's update number, so a newer draft is not
    confirmed unread."""
    waiting = incident.waiting_draft
    if waiting is None:
        return ""
    record, ref = waiting.record, incident.ref
    if record.seq == 0:
        what, after = "first message", " Discarding it closes the incident; nobody is told."
    elif record.status is IncidentStatus.RESOLVED:
        what, after = "resolve", " Discarding it leaves the incident open."
    else:
        what, after = f"update ({record.status.value})", " Discarding it leaves the thread as it is."
    seq = f'<input type="hidden" name="seq" value="{record.seq}">'
    buttons = (
        f'<form method="post" action="/incidents/{ref}/confirm">{csrf}{seq}'
        '<button type="submit">Confirm and send</button></form>'
        f'<form method="post" action="/incidents/{ref}/discard">{csrf}{seq}'
        '<button type="submit" class="secondary">Discard</button></form>'
        if may_decide
        else "<p>It reaches other practices too: a commissioner confirms or discards it.</p>"
    )
    return (
        '<section class="draft" aria-labelledby="draft-heading">'
        '<h2 id="draft-heading">Draft waiting for you</h2>'
        f"<p>{escape(record.author)} raised this {what}. Nothing of it has been sent: "
        f"Confirm sends it, as written, to every practice and channel below.{after}</p>"
        f'<blockquote class="message">{escape(record.message)}</blockquote>'
        f"{buttons}</section>"
    )
