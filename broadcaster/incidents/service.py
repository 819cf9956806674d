"""Open incidents and post updates: validate, render for every practice, write the outbox.

Keyword-only functions used by every trigger (CLI, HTTP API, health checks). Everything that
can be refused is refused here (audience, placeholders, confidentiality, channel limits,
missing secrets), before the single transaction that writes the update and all its
deliveries; nothing is sent from here (the dispatcher does that).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.content.confidentiality import Finding
from broadcaster.content.content_checks import (
    check_channel_limits,
    check_confidentiality,
    check_message_sizes,
    check_sms_has_words,
    check_title,
)
from broadcaster.content.message_content import MessageContent
from broadcaster.content.preview import SendPreview, build_preview
from broadcaster.content.render import PlannedDelivery, UpdateHeading, plan_deliveries
from broadcaster.content.sms_text import normalise_for_sms
from broadcaster.core.errors import AudienceError, ConflictError, ContentRefused
from broadcaster.core.incident_refs import PROVISIONAL_REF
from broadcaster.core.models import ChannelKind, IncidentStatus, Severity
from broadcaster.delivery.preflight import check_endpoints_ready
from broadcaster.directory.audience import Audience
from broadcaster.directory.practices import Directory, Practice
from broadcaster.incidents.lifecycle import check_update_allowed
from broadcaster.incidents.queries import IncidentQueries, IncidentView
from broadcaster.store.claims import retry_failed
from broadcaster.store.drafts import confirm_draft, discard_draft
from broadcaster.store.outbox_writes import UpdateRaced, append_update, open_incident, record_audit
from broadcaster.store.records import AuditEntry, NewDelivery, NewIncident, NewUpdate, StoredUpdate

PREVIEW_REF = "INC-NEW"
# Tries at writing an update when other updates to the same incident keep getting in first
# (each lost race costs one more render, outside any transaction): enough for every sender of
# one incident at once; past it the sender is told to try again.
_UPDATE_TRIES = 8
# How a drill's every message reads, so no one who sees one acts on it.
EXERCISE_TITLE_PREFIX = "EXERCISE: "
EXERCISE_TEXT_PREFIX = "EXERCISE - no action needed. "


@dataclass(frozen=True, slots=True)
class IncidentRequest:
    title: str
    severity: Severity
    content: MessageContent
    audience: Audience
    channels: frozenset[ChannelKind] = frozenset(ChannelKind)
    sms: bool | None = None  # None: the SMS policy decides
    runbook: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    exercise: bool = False  # a drill: marked EXERCISE, sent only to test endpoints or the outbox
    draft: bool = False  # a monitor's: held until a person confirms it (`broadcaster confirm`)


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    status: IncidentStatus
    content: MessageContent
    sms: bool | None = None
    fields: dict[str, str] = field(default_factory=dict)  # runbook values given for this update
    reopens: bool = False  # the explicit reopen of a resolved incident (`broadcaster reopen`)
    # Only these practices' threads (a practice user's update); None: the whole audience.
    practices: frozenset[str] | None = None
    draft: bool = False  # a monitor's: held until a person confirms it


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    origin: str  # "cli@host", "api 10.0.0.7"
    credential: str = "cli"  # how it proved who it is: "cli", "session", "api-token", "legacy-token"


@dataclass(frozen=True, slots=True)
class _Plan:
    deliveries: list[PlannedDelivery]
    findings: list[Finding]  # identifying content the sender chose to override

    def rows(self) -> list[NewDelivery]:
        """The deliveries as the store takes them."""
        return [
            NewDelivery(e.practice, e.channel, e.recipient, e.route, e.credential_ref, p.content)
            for p in self.deliveries
            for e in (p.endpoint,)
        ]


def channels_for_update(
    settings: Settings,
    *,
    incident_channels: frozenset[ChannelKind],
    seq: int,
    status: IncidentStatus,
    sms: bool | None,
    reopens: bool = False,
) -> frozenset[ChannelKind]:
    """SMS costs money: by default only the opening message, a reopen (those texted "Resolved"
    must hear it is back) and listed statuses go by text."""
    wants_sms = sms if sms is not None else (seq == 0 or reopens or status in settings.sms.update_statuses)
    chosen = set(incident_channels)
    if not wants_sms:
        chosen.discard(ChannelKind.SMS)
    return frozenset(chosen)


class IncidentService:
    def __init__(
        self,
        *,
        engine: AsyncEngine | None,
        directory: Directory,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._directory = directory
        self._settings = settings
        self._now = clock

    @property
    def directory(self) -> Directory:
        return self._directory

    # --- opening -------------------------------------------------------------------------

    def preview_opening(self, request: IncidentRequest) -> SendPreview:
        """Everything the opening message would send (the dry run shows exactly this)."""
        request = _checked_opening(request)
        return self._preview(self._plan_opening(request, PREVIEW_REF), request.content)

    def _plan_opening(self, request: IncidentRequest, ref: str) -> _Plan:
        heading = UpdateHeading(ref, request.title, 0, IncidentStatus.INVESTIGATING)
        channels = channels_for_update(
            self._settings, incident_channels=request.channels, seq=0, status=heading.status, sms=request.sms
        )
        practices = request.audience.select(self._directory)
        plan = self._plan(practices, heading, request.content, channels, exercise=request.exercise)
        _refuse_if_nobody(plan, "the new incident's first message", channels, request.channels)
        return plan

    async def open(self, request: IncidentRequest, *, actor: Actor) -> StoredUpdate:
        request = _checked_opening(request)  # the one check every trigger meets
        # Refuse now, before the transaction; rendering thousands of practices is CPU work, so it
        # runs in a worker thread while the event loop keeps the dispatcher and the API going.
        plan = await asyncio.to_thread(self._plan_opening, request, PROVISIONAL_REF)
        return await open_incident(
            self._require_engine(),
            incident=NewIncident(
                title=request.title,
                severity=request.severity,
                audience=request.audience.to_json(),
                channels=request.channels,
                created_by=actor.name,
                runbook=request.runbook,
                fields=request.fields,
                exercise=request.exercise,
            ),
            opening=NewUpdate(
                status=IncidentStatus.INVESTIGATING,
                message=request.content.summary,
                channels=frozenset(p.endpoint.channel for p in plan.deliveries),
                author=actor.name,
            ),
            # Rendered once, above; the store fills in the reference it assigns.
            deliveries=plan.rows(),
            audit=_audit_entry(
                actor,
                "incident_drafted" if request.draft else "incident_opened",
                request.content,
                plan.findings,
                {
                    "title": request.title,
                    "audience": request.audience.describe(),
                    "runbook": request.runbook,
                    "exercise": request.exercise,
                },
            ),
            now=self._now(),
            deadline_seconds=self._settings.retry.deadline_seconds,
            draft=request.draft,
        )

    # --- updates -------------------------------------------------------------------------

    async def incident(self, incident_id: int) -> IncidentView:
        return await IncidentQueries(self._require_engine()).incident(incident_id)

    async def preview_update(self, incident_id: int, request: UpdateRequest) -> SendPreview:
        incident = await self.incident(incident_id)
        check_update_allowed(incident.summary, reopens=request.reopens)
        request = _marked_update(incident, request)
        plan = self._plan_update(incident, request)
        return self._preview(plan, request.content)

    def _plan_update(self, incident: IncidentView, request: UpdateRequest) -> _Plan:
        record, seq = incident.summary, incident.next_seq
        heading = UpdateHeading(record.ref, record.title, seq, request.status, reopened=request.reopens)
        channels = channels_for_update(
            self._settings,
            incident_channels=record.channels,
            seq=seq,
            status=request.status,
            sms=request.sms,
            reopens=request.reopens,
        )
        practices = record.audience.select(self._directory)
        if request.practices is not None:
            practices = [p for p in practices if p.ods in request.practices]
        plan = self._plan(practices, heading, request.content, channels, exercise=record.exercise)
        _refuse_if_nobody(plan, f"update {seq} of {record.ref}", channels, record.channels)
        return plan

    async def post_update(self, incident_id: int, request: UpdateRequest, *, actor: Actor) -> StoredUpdate:
        """Render the update for the incident as last read, then write it if no other update
        got in meanwhile; if one did, read, check and render again (see store.outbox_writes)."""
        for _ in range(_UPDATE_TRIES):
            incident = await self.incident(incident_id)
            # The lifecycle rules hold under the write lock: the store refuses the write if any
            # update (and so any status change) landed after this read.
            check_update_allowed(incident.summary, reopens=request.reopens)
            marked = _marked_update(incident, request)
            plan = await asyncio.to_thread(self._plan_update, incident, marked)
            try:
                return await self._write_update(incident, marked, plan, actor)
            except UpdateRaced:
                continue
        raise ConflictError(
            f"{incident.ref} is being updated by others faster than this update could be written; "
            "nothing was sent: check `broadcaster status` and send it again if it is still needed"
        )

    async def _write_update(
        self, incident: IncidentView, request: UpdateRequest, plan: _Plan, actor: Actor
    ) -> StoredUpdate:
        return await append_update(
            self._require_engine(),
            incident_id=incident.summary.id,
            expected_seq=incident.next_seq,
            new=NewUpdate(
                status=request.status,
                message=request.content.summary,
                channels=frozenset(p.endpoint.channel for p in plan.deliveries),
                author=actor.name,
            ),
            deliveries=plan.rows(),
            fields={**incident.summary.fields, **request.fields},
            audit=_audit_entry(
                actor,
                _update_action(request),
                request.content,
                plan.findings,
                {"status": request.status.value},
            ),
            now=self._now(),
            deadline_seconds=self._settings.retry.deadline_seconds,
            draft=request.draft,
        )

    # --- drafts --------------------------------------------------------------------------

    async def confirm_draft(self, incident_id: int, *, seq: int | None, actor: Actor) -> StoredUpdate:
        """Send the monitor's draft waiting on this incident, as it was written (`seq`: the one
        the person read; refused if another waits). The dispatcher must then be woken."""
        return await confirm_draft(
            self._require_engine(),
            incident_id=incident_id,
            seq=seq,
            audit=AuditEntry(actor.name, actor.origin, "draft_confirmed", credential=actor.credential),
            now=self._now(),
            deadline_seconds=self._settings.retry.deadline_seconds,
        )

    async def discard_draft(self, incident_id: int, *, seq: int | None, actor: Actor) -> StoredUpdate:
        """Drop the draft waiting on this incident: nothing of it is sent (a discarded first
        message ends the incident). The answer's `deliveries`: how many were dropped."""
        return await discard_draft(
            self._require_engine(),
            incident_id=incident_id,
            seq=seq,
            audit=AuditEntry(actor.name, actor.origin, "draft_discarded", credential=actor.credential),
            now=self._now(),
        )

    async def retry_failed(
        self, incident_id: int, *, seq: int | None, practice: str, channel: ChannelKind, actor: Actor
    ) -> int:
        """Send again what failed in one cell of the grid (the latest update by default);
        the dispatcher must then be woken. Returns how many deliveries go out again."""
        incident = await self.incident(incident_id)
        shown = incident.existing_seq(seq)
        now = self._now()
        count = await retry_failed(
            self._require_engine(),
            incident_id=incident_id,
            seq=shown,
            practice=practice,
            channel=channel.value,
            now=now,
            deadline_at=now + self._settings.retry.deadline_seconds,
        )
        if not count:
            raise ContentRefused(
                f"nothing failed for {practice} by {channel.value} in update {shown} of {incident.ref}; "
                "only failed deliveries are sent again"
            )
        await record_audit(
            self._require_engine(),
            AuditEntry(
                actor.name,
                actor.origin,
                "deliveries_retried",
                {"update_seq": shown, "practice": practice, "channel": channel.value, "deliveries": count},
            ),
            incident_id=incident_id,
            now=now,
        )
        return count

    # --- shared --------------------------------------------------------------------------

    def _plan(
        self,
        practices: list[Practice],
        heading: UpdateHeading,
        content: MessageContent,
        channels: frozenset[ChannelKind],
        *,
        exercise: bool,
    ) -> _Plan:
        # Only the channels some of these practices have: a long message for Facebook alone is
        # not refused for being too long for a text nobody gets.
        reached = (self._directory.endpoints_for(p, exercise=exercise) for p in practices)
        channels &= {e.channel for endpoints in reached for e in endpoints}
        check_message_sizes(content.texts, channels=channels)  # before anything reads the text
        check_sms_has_words(content.texts, channels=channels)
        findings = check_confidentiality(
            content.texts, title=heading.title, override_reason=content.confidentiality_override
        )
        planned = plan_deliveries(
            directory=self._directory,
            practices=practices,
            heading=heading,
            texts=content.texts,
            channels=channels,
            exercise=exercise,
        )
        check_channel_limits(planned, sms_max_segments=content.sms_max_segments)
        check_endpoints_ready(self._settings, (p.endpoint for p in planned))
        return _Plan(planned, findings)

    def _preview(self, plan: _Plan, content: MessageContent) -> SendPreview:
        return build_preview(
            plan.deliveries,
            sms_normalisation=normalise_for_sms(content.texts.sms),
            price_per_segment_pence=self._settings.sms.price_per_segment_pence,
        )

    def _require_engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("this IncidentService was built for previews only")
        return self._engine


def _checked_opening(request: IncidentRequest) -> IncidentRequest:
    """The title checked; a drill's title and texts marked EXERCISE first, so the length
    checks see what is sent."""
    if not request.exercise:
        return replace(request, title=check_title(request.title))
    title = request.title.strip()
    if not title.upper().startswith(EXERCISE_TITLE_PREFIX.strip().upper()):
        title = EXERCISE_TITLE_PREFIX + title
    return replace(request, title=check_title(title), content=_marked_content(request.content))


def _marked_update(incident: IncidentView, request: UpdateRequest) -> UpdateRequest:
    """An update of a drill is marked as its opening was (its title already is, in the store)."""
    if not incident.summary.exercise:
        return request
    return replace(request, content=_marked_content(request.content))


def _marked_content(content: MessageContent) -> MessageContent:
    def mark(text: str) -> str:
        return text if text.startswith(EXERCISE_TEXT_PREFIX) else EXERCISE_TEXT_PREFIX + text

    texts = content.texts
    return replace(
        content,
        texts=replace(
            texts,
            sms=mark(texts.sms),
            facebook=mark(texts.facebook),
            email_body=mark(texts.email_body),
            plain=mark(texts.plain),
        ),
        summary=mark(content.summary),
    )


def _refuse_if_nobody(
    plan: _Plan, what: str, channels: frozenset[ChannelKind], asked: frozenset[ChannelKind]
) -> None:
    """A message that reaches no one must not look sent: refuse it, saying why."""
    if plan.deliveries:
        return
    if channels:
        on = ", ".join(sorted(channels))
        reason = f"{what} would reach nobody: no practice in the audience has recipients for {on}"
    else:
        reason = f"{what} would reach nobody: no channel was chosen"
    if ChannelKind.SMS in asked and ChannelKind.SMS not in channels:
        reason += (
            "; texts go by default only on open, reopen and resolve: add --sms "
            '(API: "sms": true) to text this update'
        )
    raise AudienceError(f"{reason}. Nothing was sent.")


def _update_action(request: UpdateRequest) -> str:
    if request.draft:
        return "update_drafted"
    return "incident_reopened" if request.reopens else "update_posted"


def _audit_entry(
    actor: Actor, action: str, content: MessageContent, findings: list[Finding], detail: dict[str, object]
) -> AuditEntry:
    if findings:  # only reached with an override: record what was overridden, masked, and why
        detail = {
            **detail,
            "confidentiality_override": content.confidentiality_override,
            "overridden_findings": [{"kind": f.kind.name, "excerpt": f.excerpt} for f in findings],
        }
    return AuditEntry(actor.name, actor.origin, action, detail, credential=actor.credential)
