"""Act on an alert once per cause: open on firing, update if what it says changed, resolve on
resolved; a repeated delivery, or a firing alert whose incident a person has resolved, does nothing.

By its policy (core.models.AlertPolicy) each of these is sent at once, or written as a draft
that waits for a person to confirm it. A draft the alert has outrun is discarded by it: a
recovery before anyone confirmed the opening (nobody was told, so nobody needs telling), the
problem back while a resolve waits, or a changed alert replacing a waiting update.

The cause is claimed in the store before the incident is written (store.alert_causes), so two
deliveries of one alert at once, or a server and `broadcaster monitor`, open one incident.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.content.message_content import MessageContent, content_from_runbook, content_from_text
from broadcaster.core.errors import AudienceError, ContentRefused, LifecycleRefused
from broadcaster.core.incident_refs import incident_ref, parse_incident_ref
from broadcaster.core.models import AlertPolicy, IncidentStatus, Severity
from broadcaster.directory.audience import Audience
from broadcaster.incidents.queries import IncidentView, UpdateView
from broadcaster.incidents.service import Actor, IncidentRequest, IncidentService, UpdateRequest
from broadcaster.monitoring.alerts import Alert
from broadcaster.monitoring.draft_notice import DraftNotices
from broadcaster.runbooks.templates import Runbook
from broadcaster.store.alert_causes import (
    CauseState,
    cause_of,
    claim_cause,
    record_digest,
    release_cause,
    resolve_cause,
    settle_cause,
)

log = structlog.get_logger(__name__)
# A claim older than this was left by a process that died while opening: it may be claimed again.
CLAIM_STALE_SECONDS = 300.0
# What a cause's incident has said, newest last: an alert saying any of it again is unchanged.
_DIGESTS_KEPT = 8


class Outcome(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    RESOLVED = "resolved"
    DRAFTED = "drafted"  # written as a draft: it waits for a person to confirm it
    DRAFT_DISCARDED = "draft discarded"  # a waiting draft the alert outran was dropped, unsent
    UNCHANGED = "unchanged"  # already open and saying the same, or a repeat of a resolved episode
    NOTHING_OPEN = "nothing open"  # resolved, but no incident of ours is open for it


@dataclass(frozen=True, slots=True)
class AlertResult:
    cause: str
    outcome: Outcome
    incident: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"cause": self.cause, "outcome": self.outcome.value, "incident": self.incident}


@dataclass(frozen=True, slots=True)
class _Opening:
    request: IncidentRequest
    digest: str  # of what the opening says (an update cannot change whom it reaches)


class AlertActions:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        service: IncidentService,
        settings: Settings,
        runbook: Callable[[str], Runbook],  # the runbook of that name; ConfigError if there is none
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine, self._service, self._settings = engine, service, settings
        self._runbook, self._now = runbook, clock
        self._notices = DraftNotices(settings=settings, directory=service.directory, clock=clock)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def check(self, alert: Alert) -> None:
        """Refuse an alert that cannot become an incident (no practices or unknown ones, no
        runbook or wording, a missing runbook field, an unknown policy) before any alert of its
        delivery is acted on."""
        self._policy(alert)
        if alert.firing:
            self._opening(alert).request.audience.select(self._service.directory)

    def preview(self, alert: Alert) -> None:
        """`check`, and render the opening for every practice it reaches (a placeholder a
        practice lacks, a missing secret): for configured checks, at start-up."""
        self._service.preview_opening(self._opening(alert).request)

    async def apply(self, alert: Alert, *, actor: Actor) -> AlertResult:
        result = await (self._fire(alert, actor) if alert.firing else self._resolve(alert, actor))
        if result.outcome is Outcome.DRAFTED and result.incident is not None and self._notices.wanted:
            self._notices.drafted(await self._service.incident(parse_incident_ref(result.incident)))
        log.info(
            "alert_applied", cause=alert.cause_key, outcome=result.outcome.value, incident=result.incident
        )
        return result

    async def _fire(self, alert: Alert, actor: Actor) -> AlertResult:
        opening = self._opening(alert)
        found = await cause_of(self._engine, alert.cause_key)
        if found is not None and found.state is CauseState.OPEN and found.incident_id is not None:
            return await self._maybe_update(alert, found.incident_id, found.digest, opening, actor)
        standing = await claim_cause(
            self._engine,
            cause_key=alert.cause_key,
            source=alert.source,
            episode=alert.episode,
            now=self._now(),
            stale_after=CLAIM_STALE_SECONDS,
        )
        if standing is not None:  # open, being opened elsewhere, or this episode was resolved
            ref = incident_ref(standing.incident_id) if standing.incident_id is not None else None
            return AlertResult(alert.cause_key, Outcome.UNCHANGED, ref)
        draft = self._policy(alert) is AlertPolicy.DRAFT
        try:
            stored = await self._service.open(replace(opening.request, draft=draft), actor=actor)
        except BaseException:
            await release_cause(self._engine, cause_key=alert.cause_key)
            raise
        await settle_cause(
            self._engine,
            cause_key=alert.cause_key,
            incident_id=stored.incident_id,
            digest=opening.digest,
            now=self._now(),
        )
        outcome = Outcome.DRAFTED if draft else Outcome.OPENED
        return AlertResult(alert.cause_key, outcome, stored.incident_ref)

    async def _maybe_update(
        self, alert: Alert, incident_id: int, digest: str, opening: _Opening, actor: Actor
    ) -> AlertResult:
        incident = await self._service.incident(incident_id)
        said_before = opening.digest in digest.split()
        waiting = incident.waiting_draft
        if waiting is not None:
            # The opening waits for a person as written; a waiting update saying this already
            # stands. A waiting resolve (the problem is back) or a stale update is dropped.
            if waiting.record.seq == 0 or (
                waiting.record.status is not IncidentStatus.RESOLVED and said_before
            ):
                return AlertResult(alert.cause_key, Outcome.UNCHANGED, incident.ref)
            incident = await self._discard(incident, waiting, actor)
        outcome = Outcome.UNCHANGED if waiting is None else Outcome.DRAFT_DISCARDED
        status = incident.summary.status
        # Resolved by a person while the monitor still fires: their call stands, nothing is sent.
        # Said before (two alerts of one cause taking turns): nothing, or they would ping-pong.
        if status is IncidentStatus.RESOLVED or said_before:
            return AlertResult(alert.cause_key, outcome, incident.ref)
        draft = self._policy(alert) is AlertPolicy.DRAFT
        content = self._content(alert, status, incident.summary.fields)
        stored = await self._service.post_update(
            incident_id,
            UpdateRequest(status=status, content=content, fields=self._fields(alert), draft=draft),
            actor=actor,
        )
        said = " ".join([*digest.split(), opening.digest][-_DIGESTS_KEPT:])
        await record_digest(self._engine, cause_key=alert.cause_key, digest=said, now=self._now())
        return AlertResult(
            alert.cause_key, Outcome.DRAFTED if draft else Outcome.UPDATED, stored.incident_ref
        )

    async def _resolve(self, alert: Alert, actor: Actor) -> AlertResult:
        found = await cause_of(self._engine, alert.cause_key)
        if found is None or found.state is not CauseState.OPEN or found.incident_id is None:
            return AlertResult(alert.cause_key, Outcome.NOTHING_OPEN)
        incident = await self._service.incident(found.incident_id)
        waiting = incident.waiting_draft
        if waiting is not None and waiting.record.status is IncidentStatus.RESOLVED:
            return AlertResult(alert.cause_key, Outcome.UNCHANGED, incident.ref)  # a resolve waits already
        if waiting is not None:
            incident = await self._discard(incident, waiting, actor)
            if waiting.record.seq == 0:  # never sent: nobody to tell (the store ended the cause)
                return AlertResult(alert.cause_key, Outcome.DRAFT_DISCARDED, incident.ref)
        draft = self._policy(alert) is AlertPolicy.DRAFT
        outcome = Outcome.DRAFTED if draft else Outcome.RESOLVED
        if incident.summary.status is IncidentStatus.RESOLVED:
            outcome, draft = Outcome.UNCHANGED, False  # a person resolved it already
        else:
            content = self._content(alert, IncidentStatus.RESOLVED, incident.summary.fields)
            try:
                await self._service.post_update(
                    found.incident_id,
                    UpdateRequest(status=IncidentStatus.RESOLVED, content=content, draft=draft),
                    actor=actor,
                )
            except LifecycleRefused:  # resolved by someone between the read and the write
                outcome, draft = Outcome.UNCHANGED, False
        if not draft:  # a drafted resolve leaves the cause open until a person confirms it
            await resolve_cause(self._engine, cause_key=alert.cause_key, now=self._now())
        return AlertResult(alert.cause_key, outcome, incident.ref)

    async def _discard(self, incident: IncidentView, waiting: UpdateView, actor: Actor) -> IncidentView:
        """Drop a waiting draft the alert has outrun; the incident as it stands after."""
        incident_id = incident.summary.id
        await self._service.discard_draft(incident_id, seq=waiting.record.seq, actor=actor)
        log.info("draft_discarded_by_alert", incident=incident.ref, seq=waiting.record.seq)
        return await self._service.incident(incident_id)

    def _policy(self, alert: Alert) -> AlertPolicy:
        if alert.policy is None:
            return self._settings.monitor.policy
        try:
            return AlertPolicy(alert.policy.strip().lower())
        except ValueError:
            raise ContentRefused(
                f"alert {alert.cause_key} has policy {alert.policy!r}; use `open` (send at once) "
                "or `draft` (wait for a person to confirm it)"
            ) from None

    # --- what the alert says -----------------------------------------------------------

    def _opening(self, alert: Alert) -> _Opening:
        audience = self._audience(alert)
        content = self._content(alert, IncidentStatus.INVESTIGATING, {})
        name = self._runbook_name(alert)
        if name is not None:
            book = self._runbook(name)
            fields = self._fields(alert)
            title = alert.title or book.title_for(fields)
            severity = book.spec.severity
        else:
            fields, severity = {}, self._settings.monitor.default_severity
            title = alert.title or _default_title(alert)
        request = IncidentRequest(
            title=title,
            severity=Severity(severity),
            content=content,
            audience=audience,
            runbook=name,
            fields=fields,
        )
        said = json.dumps([title, content.texts.templates()], sort_keys=True)
        return _Opening(request, hashlib.sha256(said.encode()).hexdigest()[:16])

    def _audience(self, alert: Alert) -> Audience:
        groups = list(alert.groups)
        if not (alert.ods or groups) and self._settings.monitor.default_group:
            groups = [self._settings.monitor.default_group]
        if not (alert.ods or groups):
            raise AudienceError(
                f"alert {alert.cause_key} names no practice: give it an `ods` label (ODS codes, "
                "comma-separated) or a `group` label, or set BROADCASTER_MONITOR__DEFAULT_GROUP"
            )
        return Audience.parse(everyone=False, groups=groups, ods_codes=list(alert.ods))

    def _runbook_name(self, alert: Alert) -> str | None:
        return alert.runbook or (None if alert.message else self._settings.monitor.default_runbook)

    def _fields(self, alert: Alert) -> dict[str, str]:
        """The alert's labels and annotations the runbook has fields for (the rest are the
        monitor's own: alertname, instance, severity ...)."""
        name = self._runbook_name(alert)
        if name is None:
            return {}
        known = self._runbook(name).spec.fields
        return {k: v for k, v in alert.fields.items() if k in known and v.strip()}

    def _content(self, alert: Alert, status: IncidentStatus, earlier: dict[str, str]) -> MessageContent:
        segments = self._settings.sms.max_segments
        name = self._runbook_name(alert)
        if name is not None:
            book = self._runbook(name)
            texts = book.texts_for(status, {**earlier, **self._fields(alert)})
            return content_from_runbook(texts, sms_max_segments=book.spec.sms_segments)
        if alert.message and (
            alert.firing or (status is IncidentStatus.RESOLVED and alert.source == "generic")
        ):
            return content_from_text(alert.message, sms_max_segments=segments)
        if status is IncidentStatus.RESOLVED:
            return content_from_text(self._settings.monitor.resolved_message, sms_max_segments=segments)
        raise ContentRefused(
            f"alert {alert.cause_key} has no runbook and no message: give it a `runbook` label "
            "(see `broadcaster runbooks`) or a `message` annotation with the patients' wording, "
            "or set BROADCASTER_MONITOR__DEFAULT_RUNBOOK"
        )


def _default_title(alert: Alert) -> str:
    return f"Service problem ({alert.source})"
