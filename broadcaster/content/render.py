"""Render one update for every practice and channel: the exact texts that go into the outbox.

Channel framing lives here so every trigger (CLI, API, runbook, health check) says things the
same way: a Facebook post carries a reference marker and its first line is the status headline;
later updates are comments; texts start "Update:"; emails keep one subject for the thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from broadcaster.content.placeholders import TemplateSyntaxError, fill, placeholders_in
from broadcaster.content.sms_text import normalise_for_sms
from broadcaster.core.channel_contract import RenderedContent
from broadcaster.core.control_characters import as_one_line
from broadcaster.core.errors import ContentRefused
from broadcaster.core.models import ChannelKind, IncidentStatus
from broadcaster.directory.practices import Directory, Endpoint, Practice

STATUS_LABEL = {
    IncidentStatus.INVESTIGATING: "Investigating",
    IncidentStatus.IDENTIFIED: "Cause identified",
    IncidentStatus.MONITORING: "Service restored, monitoring",
    IncidentStatus.RESOLVED: "Resolved",
}


def reference_marker(incident_ref: str, seq: int) -> str:
    """Unique per message of a thread ("Ref INC-42", "Ref INC-42.2"), so a reconcile finds it."""
    return f"Ref {incident_ref}" if seq == 0 else f"Ref {incident_ref}.{seq}"


@dataclass(frozen=True, slots=True)
class ChannelTexts:
    """One update's texts per channel, placeholders still unfilled (from a message or a runbook)."""

    sms: str
    facebook: str
    email_body: str
    plain: str  # any other apprise channel

    @classmethod
    def same_everywhere(cls, message: str) -> ChannelTexts:
        return cls(sms=message, facebook=message, email_body=message, plain=message)

    def templates(self) -> dict[str, str]:
        return {
            "sms": self.sms,
            "facebook": self.facebook,
            "email": self.email_body,
            "other": self.plain,
        }


@dataclass(frozen=True, slots=True)
class UpdateHeading:
    incident_ref: str  # "INC-42"
    title: str
    seq: int
    status: IncidentStatus
    reopened: bool = False  # the first update after someone reopened a resolved incident

    @property
    def marker(self) -> str:
        return reference_marker(self.incident_ref, self.seq)

    @property
    def headline(self) -> str:
        title = self.one_line_title
        if self.status is IncidentStatus.RESOLVED:
            return f"RESOLVED: {title}"
        if self.reopened:
            return f"REOPENED: {title}"
        if self.seq == 0:
            return f"INCIDENT: {title}"
        return f"UPDATE ({STATUS_LABEL[self.status]}): {title}"

    @property
    def label(self) -> str:
        """How a later message starts on a text or a comment: people told "Resolved" must see
        at a glance that it is back."""
        if self.status is IncidentStatus.RESOLVED:
            return "Resolved"
        return "Reopened" if self.reopened else "Update"

    @property
    def subject(self) -> str:
        # Identical for the whole incident: Gmail and Outlook thread on it.
        return f"[{self.incident_ref}] {self.one_line_title}"

    @property
    def one_line_title(self) -> str:
        # New titles are refused with a line break (content_checks.check_title); one stored
        # before that check must still not break a subject or a post's first line.
        return as_one_line(self.title)


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    endpoint: Endpoint
    content: RenderedContent


def check_placeholders(texts: ChannelTexts, practices: list[Practice]) -> None:
    """Refuse the send if any practice lacks a value a text needs, listing who lacks what."""
    try:  # parsed once, not once per practice
        needed = {name for template in texts.templates().values() for name in placeholders_in(template)}
    except TemplateSyntaxError as exc:
        raise ContentRefused(f"the message has a broken placeholder: {exc}") from None
    lacking: dict[str, set[str]] = {}
    for practice in practices:
        values = practice.placeholder_values()
        missing = {name for name in needed if not values.get(name)}
        if missing:
            lacking[f"{practice.ods} ({practice.name})"] = missing
    if lacking:
        lines = "\n".join(f"  {who}: {', '.join(sorted(names))}" for who, names in lacking.items())
        raise ContentRefused(
            f"{len(lacking)} practice(s) lack placeholder values; add them to the directory "
            f"or remove the placeholder from the message. Nothing was sent.\n{lines}"
        )


def render_for_practice(
    heading: UpdateHeading, texts: ChannelTexts, practice: Practice
) -> dict[ChannelKind, RenderedContent]:
    values = practice.placeholder_values()
    return {
        ChannelKind.FACEBOOK: _facebook(heading, fill(texts.facebook, values)),
        ChannelKind.SMS: _sms(heading, fill(texts.sms, values), practice),
        ChannelKind.EMAIL: _email(heading, fill(texts.email_body, values), practice),
        ChannelKind.APPRISE: RenderedContent(
            subject=f"[{heading.incident_ref}] {heading.headline}", body=fill(texts.plain, values)
        ),
    }


def _facebook(heading: UpdateHeading, text: str) -> RenderedContent:
    standalone = f"{heading.headline}\n{text}\n\n{heading.marker}"
    if heading.seq == 0:
        return RenderedContent(body=standalone)
    plain_update = heading.status is not IncidentStatus.RESOLVED and not heading.reopened
    label = f"Update ({STATUS_LABEL[heading.status]})" if plain_update else heading.label
    comment = f"{label}: {text}\n\n{heading.marker}"
    return RenderedContent(body=comment, opening_body=standalone, headline=heading.headline)


def _sms(heading: UpdateHeading, text: str, practice: Practice) -> RenderedContent:
    # Texts arrive from a short code or "NHS": say which practice, then what changed.
    if practice.name.lower() not in text.lower():
        text = f"{practice.name}: {text}"
    if heading.seq > 0:
        text = f"{heading.label}: {text}"
    return RenderedContent(body=normalise_for_sms(text).text)


def _email(heading: UpdateHeading, text: str, practice: Practice) -> RenderedContent:
    status = STATUS_LABEL[heading.status]
    reopened = "Reopened, " if heading.reopened else ""
    intro = "" if heading.seq == 0 else f"Update {heading.seq} - {reopened}{status}\n\n"
    footer = (
        f"\n\n-- \nPractice: {practice.name} ({practice.ods})\n"
        f"Status: {status}\nIncident reference: {heading.incident_ref}\n"
        "Replies to this address are not monitored."
    )
    return RenderedContent(subject=heading.subject, body=f"{intro}{text}{footer}")


def plan_deliveries(
    *,
    directory: Directory,
    practices: list[Practice],
    heading: UpdateHeading,
    texts: ChannelTexts,
    channels: frozenset[ChannelKind],
    exercise: bool = False,
) -> list[PlannedDelivery]:
    """Every (practice, channel, recipient) this update goes to, with its rendered content;
    a drill's (`exercise`) go to the practices' test endpoints or the outbox instead."""
    check_placeholders(texts, practices)
    planned = []
    for practice in practices:
        rendered = render_for_practice(heading, texts, practice)
        for endpoint in directory.endpoints_for(practice, exercise=exercise):
            if endpoint.channel in channels:
                planned.append(PlannedDelivery(endpoint, rendered[endpoint.channel]))
    return planned
