"""Open incidents and post updates: validate, render for every practice, write the outbox.

Keyword-only functions used by every trigger (CLI, HTTP API, health checks). Everything that
can be refused is refused here, before the single transaction that writes the update and all
its deliveries; nothing is sent from here (the dispatcher does that).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.audience import Audience
from broadcaster.directory import Directory, Practice
from broadcaster.models import ChannelKind, IncidentStatus, Severity
from broadcaster.preflight import check_endpoints_ready
from broadcaster.render import ChannelTexts, PlannedDelivery, UpdateHeading, plan_deliveries
from broadcaster.settings import Settings
from broadcaster.store.outbox_writes import append_update, open_incident
from broadcaster.store.queries import get_incident
from broadcaster.store.records import AuditEntry, NewIncident, NewUpdate, StoredUpdate

PREVIEW_REF = "INC-NEW"


@dataclass(frozen=True, slots=True)
class IncidentRequest:
    title: str
    severity: Severity
    texts: ChannelTexts
    summary: str  # the update's text as kept in the thread's history
    audience: Audience
    channels: frozenset[ChannelKind] = frozenset(ChannelKind)
    sms: bool | None = None  # None: the SMS policy decides
    runbook: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    status: IncidentStatus
    texts: ChannelTexts
    summary: str
    sms: bool | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    origin: str  # "cli@host", "api 10.0.0.7"


def channels_for_update(
    settings: Settings,
    *,
    incident_channels: frozenset[ChannelKind],
    seq: int,
    status: IncidentStatus,
    sms: bool | None,
) -> frozenset[ChannelKind]:
    """SMS costs money: by default only the opening message and listed statuses go by text."""
    wants_sms = sms if sms is not None else (seq == 0 or status in settings.sms.update_statuses)
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

    def plan_opening(
        self,
        request: IncidentRequest,
        *,
        ref: str = PREVIEW_REF,
    ) -> list[PlannedDelivery]:
        """Everything the opening message would send (the dry run shows exactly this)."""
        practices = request.audience.select(self._directory)
        heading = UpdateHeading(ref, request.title, 0, IncidentStatus.INVESTIGATING)
        channels = channels_for_update(
            self._settings,
            incident_channels=request.channels,
            seq=0,
            status=heading.status,
            sms=request.sms,
        )
        return self._plan(practices, heading, request.texts, channels)

    def _plan(
        self,
        practices: list[Practice],
        heading: UpdateHeading,
        texts: ChannelTexts,
        channels: frozenset[ChannelKind],
    ) -> list[PlannedDelivery]:
        planned = plan_deliveries(
            directory=self._directory,
            practices=practices,
            heading=heading,
            texts=texts,
            channels=channels,
        )
        check_endpoints_ready(self._settings, (p.endpoint for p in planned))
        return planned

    async def open(self, request: IncidentRequest, *, actor: Actor) -> StoredUpdate:
        self.plan_opening(request)  # refuse now, before the transaction, if anything is wrong
        status = IncidentStatus.INVESTIGATING
        channels = channels_for_update(
            self._settings,
            incident_channels=request.channels,
            seq=0,
            status=status,
            sms=request.sms,
        )
        practices = request.audience.select(self._directory)
        return await open_incident(
            self._require_engine(),
            incident=NewIncident(
                title=request.title,
                severity=request.severity,
                audience=request.audience,
                channels=request.channels,
                created_by=actor.name,
                runbook=request.runbook,
                fields=request.fields,
            ),
            opening=NewUpdate(status=status, message=request.summary, channels=channels, author=actor.name),
            plan=lambda ref, seq: self._plan(
                practices, UpdateHeading(ref, request.title, seq, status), request.texts, channels
            ),
            audit=AuditEntry(
                actor.name,
                actor.origin,
                "incident_opened",
                {
                    "title": request.title,
                    "audience": request.audience.describe(),
                    "runbook": request.runbook,
                },
            ),
            now=self._now(),
            deadline_seconds=self._settings.retry.deadline_seconds,
        )

    async def plan_update(
        self,
        incident_id: int,
        request: UpdateRequest,
    ) -> list[PlannedDelivery]:
        """What the next update would send (the dry run), validated like the real thing."""
        practices, heading, channels = await self._update_parts(incident_id, request)
        return self._plan(practices, heading, request.texts, channels)

    async def _update_parts(
        self, incident_id: int, request: UpdateRequest
    ) -> tuple[list[Practice], UpdateHeading, frozenset[ChannelKind]]:
        incident = await get_incident(self._require_engine(), incident_id)
        record, seq = incident.record, len(incident.updates)
        heading = UpdateHeading(record.ref, record.title, seq, request.status)
        channels = channels_for_update(
            self._settings,
            incident_channels=record.channels,
            seq=seq,
            status=request.status,
            sms=request.sms,
        )
        return record.audience.select(self._directory), heading, channels

    async def post_update(self, incident_id: int, request: UpdateRequest, *, actor: Actor) -> StoredUpdate:
        practices, heading, channels = await self._update_parts(incident_id, request)
        self._plan(practices, heading, request.texts, channels)  # refuse before writing
        return await append_update(
            self._require_engine(),
            incident_id=incident_id,
            new=NewUpdate(
                status=request.status, message=request.summary, channels=channels, author=actor.name
            ),
            # The final seq is fixed inside the transaction, in case two updates race.
            plan=lambda ref, seq: self._plan(
                practices,
                UpdateHeading(ref, heading.title, seq, request.status),
                request.texts,
                channels,
            ),
            audit=AuditEntry(actor.name, actor.origin, "update_posted", {"status": request.status.value}),
            now=self._now(),
            deadline_seconds=self._settings.retry.deadline_seconds,
        )

    def _require_engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("this IncidentService was built for previews only")
        return self._engine
