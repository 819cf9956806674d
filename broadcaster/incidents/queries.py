"""The read side: what the CLI, the HTTP API and the console show about incidents.

One place turns the store's rows into the views people read: the recent list, one incident with
its updates and their delivery counts, the practice x channel grid of an update with the reason
for each failure, and the progress of an update as its outcomes land (followed through the
result writer's outcome stream, not by polling).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.core.errors import NotAnExercise, UnknownIncident
from broadcaster.core.incident_refs import incident_ref
from broadcaster.core.models import FINAL_STATES, ChannelKind, DeliveryState, IncidentStatus, Severity
from broadcaster.delivery.outcome_stream import OutcomeStream
from broadcaster.directory.audience import Audience
from broadcaster.store import queries
from broadcaster.store.audit_log import latest_audit_event
from broadcaster.store.records import DeliveryRecord, IncidentRecord, UpdateRecord

ProgressCallback = Callable[[Counter[DeliveryState]], None]


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    """One line of `broadcaster list` and `GET /api/incidents`."""

    id: int
    title: str
    severity: Severity
    status: IncidentStatus
    audience: Audience
    channels: frozenset[ChannelKind]
    runbook: str | None
    fields: dict[str, str]
    created_by: str
    created_at: float
    resolved_at: float | None
    exercise: bool = False  # a drill: test endpoints and the outbox only, never public
    waiting_draft_seq: int | None = None  # a monitor's draft waiting for a person to confirm it
    sent: bool = True  # false while its first message has not gone out (a draft, or discarded)

    @property
    def ref(self) -> str:
        return incident_ref(self.id)

    @property
    def draft(self) -> str | None:
        """ "opening": its first message is a draft waiting for a person; "update": a later one
        is; "discarded": its first message was discarded, never sent; None: nothing of that."""
        if self.waiting_draft_seq == 0:
            return "opening"
        if self.waiting_draft_seq is not None:
            return "update"
        return None if self.sent else "discarded"

    @property
    def draft_label(self) -> str | None:
        """How lists mark it (see `draft`)."""
        return _DRAFT_LABELS.get(self.draft or "")

    @classmethod
    def of(cls, record: IncidentRecord) -> IncidentSummary:
        return cls(
            id=record.id,
            title=record.title,
            severity=record.severity,
            status=record.status,
            audience=Audience.from_json(record.audience),
            channels=record.channels,
            runbook=record.runbook,
            fields=record.fields,
            created_by=record.created_by,
            created_at=record.created_at,
            resolved_at=record.resolved_at,
            exercise=record.exercise,
            waiting_draft_seq=record.waiting_draft_seq,
            sent=record.sent,
        )


_DRAFT_LABELS = {"opening": "DRAFT", "update": "DRAFT UPDATE", "discarded": "DISCARDED (never sent)"}


@dataclass(frozen=True, slots=True)
class UpdateView:
    record: UpdateRecord
    deliveries: Counter[DeliveryState]  # how many are in each state now


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident and its updates, oldest first, each with its delivery counts."""

    summary: IncidentSummary
    updates: tuple[UpdateView, ...]

    @property
    def ref(self) -> str:
        return self.summary.ref

    @property
    def next_seq(self) -> int:
        return len(self.updates)

    @property
    def waiting_draft(self) -> UpdateView | None:
        """The draft a monitor wrote for a person to confirm, if one waits (the newest update)."""
        seq = self.summary.waiting_draft_seq
        return None if seq is None or seq >= len(self.updates) else self.updates[seq]

    def existing_seq(self, seq: int | None) -> int:
        """`seq`, or the latest update's when None; UnknownIncident if there is no such update."""
        last = self.next_seq - 1
        shown = last if seq is None else seq
        if not 0 <= shown <= last:
            raise UnknownIncident(f"{self.ref} has updates 0 to {last}; there is no update {seq}")
        return shown


# What the public copy's republisher records against each incident it carried (public/republisher).
PUBLIC_COPY_ACTIONS = ("public_copy_published", "public_copy_failed")


@dataclass(frozen=True, slots=True)
class PublicCopyState:
    """The latest attempt at putting an incident's public copy outside (the S3 bucket)."""

    ok: bool
    update_seq: int
    target: str
    at: float
    attempts: int
    reason: str | None  # why it failed, when it did


@dataclass(frozen=True, slots=True)
class DeliveryGrid:
    """Who got what for one update (or every update): the `status` grid and its reasons."""

    incident: IncidentView
    shown_seq: int
    deliveries: list[DeliveryRecord]  # by practice, channel, recipient, update
    # (practice, route, recipient, reason): endpoints of these practices a person must fix
    attention: list[tuple[str, str, str, str]]
    public_copy: PublicCopyState | None = None

    def shown_counts(self) -> Counter[DeliveryState]:
        return Counter(d.state for d in self.deliveries if d.update_seq == self.shown_seq)


@dataclass(frozen=True, slots=True)
class DrillLine:
    """One message of a drill: where it went and how long it took to land."""

    practice: str
    channel: ChannelKind
    update_seq: int
    route: str  # a test endpoint's real route, or an outbox route
    recipient: str
    state: DeliveryState
    attempts: int
    seconds: float | None  # from the update being written to delivered; None until delivered


@dataclass(frozen=True, slots=True)
class DrillReport:
    """What a drill reached, practice by channel (`broadcaster drill-report`)."""

    incident: IncidentView
    lines: list[DrillLine]  # by practice, channel, recipient, update

    @property
    def delivered(self) -> int:
        return sum(1 for line in self.lines if line.state is DeliveryState.DELIVERED)

    @property
    def times(self) -> list[float]:
        return sorted(line.seconds for line in self.lines if line.seconds is not None)

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def slowest_seconds(self) -> float | None:
        return self.times[-1] if self.times else None


class IncidentQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def recent(self, *, limit: int = 50) -> list[IncidentSummary]:
        """Newest first."""
        return [IncidentSummary.of(r) for r in await queries.list_incidents(self._engine, limit=limit)]

    async def open_and_recent(self, *, resolved_limit: int) -> list[IncidentView]:
        """Every open incident and the most recently resolved ones, newest first, with their
        updates: what the public pages start from (broadcaster.public.published filters it)."""
        records = await queries.list_open_and_recent(self._engine, resolved_limit=resolved_limit)
        return [await self.incident(r.id) for r in records]

    async def incident(self, incident_id: int, *, practices: frozenset[str] | None = None) -> IncidentView:
        """Raises UnknownIncident when there is none. `practices`: count only their deliveries
        (a practice user's view); None: every practice's."""
        found = await queries.get_incident(self._engine, incident_id)
        counts = await queries.delivery_counts(self._engine, incident_id, practices=practices)
        updates = tuple(UpdateView(u, counts.get(u.seq, Counter())) for u in found.updates)
        return IncidentView(IncidentSummary.of(found.record), updates)

    async def grid(
        self,
        incident_id: int,
        *,
        seq: int | None = None,
        every_update: bool = False,
        practices: frozenset[str] | None = None,
    ) -> DeliveryGrid:
        """Update `seq`'s deliveries (default: the latest), or every update's with `every_update`;
        only the rows of `practices` when given (a practice user sees no one else's recipients)."""
        incident = await self.incident(incident_id, practices=practices)
        shown = incident.existing_seq(seq)
        records = await queries.deliveries_of(
            self._engine, incident_id, seq=None if every_update else shown, practices=practices
        )
        shown_practices = {r.practice for r in records}
        attention = [
            a for a in await queries.endpoints_needing_attention(self._engine) if a[0] in shown_practices
        ]
        return DeliveryGrid(incident, shown, records, attention, await self.public_copy(incident_id))

    async def drill_report(self, incident_id: int) -> DrillReport:
        """Every message of a drill with how fast it landed; NotAnExercise for a real incident."""
        incident = await self.incident(incident_id)
        if not incident.summary.exercise:
            raise NotAnExercise(
                f"{incident.ref} was not an exercise: a drill report covers only incidents sent "
                "with `broadcaster send --exercise`; `broadcaster status` shows this one"
            )
        written = {u.record.seq: u.record.created_at for u in incident.updates}
        lines = [
            DrillLine(
                practice=r.practice,
                channel=r.channel,
                update_seq=r.update_seq,
                route=r.route,
                recipient=r.recipient,
                state=r.state,
                attempts=r.attempts,
                seconds=(
                    max(0.0, r.delivered_at - written[r.update_seq])
                    if r.delivered_at is not None and r.state is DeliveryState.DELIVERED
                    else None
                ),
            )
            for r in await queries.deliveries_of(self._engine, incident_id)
        ]
        return DrillReport(incident, lines)

    async def public_copy(self, incident_id: int) -> PublicCopyState | None:
        """The latest public-copy attempt recorded for this incident, or None if none was."""
        event = await latest_audit_event(self._engine, incident_id, actions=PUBLIC_COPY_ACTIONS)
        if event is None:
            return None
        detail = event.detail
        return PublicCopyState(
            ok=event.action == PUBLIC_COPY_ACTIONS[0],
            update_seq=int(detail.get("update", 0)),
            target=str(detail.get("target", "")),
            at=event.at,
            attempts=int(detail.get("attempts", 1)),
            reason=detail.get("reason"),
        )

    async def progress(self, update_id: int) -> Counter[DeliveryState]:
        """How many of an update's deliveries are in each state now."""
        return await queries.progress_of_update(self._engine, update_id)

    async def follow(
        self,
        update_id: int,
        *,
        outcomes: OutcomeStream,
        give_up_after: float,
        on_progress: ProgressCallback | None = None,
        recheck_seconds: float = 2.0,
    ) -> Counter[DeliveryState]:
        """Follow an update's deliveries until all are delivered or failed, or `give_up_after` s pass.

        Progress comes from this process's written outcomes as they land. The store is read
        again only when the stream has been quiet for `recheck_seconds` (or lagged): another
        process, such as `broadcaster serve`, may be delivering some of the same update, and its
        outcomes reach the store but not this stream.
        """
        give_up_at = time.monotonic() + give_up_after
        with outcomes.subscribe() as stream:
            # Subscribed before reading, so nothing written in between is missed.
            states = await queries.states_of_update(self._engine, update_id)
            while True:
                counts = Counter(states.values())
                if on_progress is not None:
                    on_progress(counts)
                left = give_up_at - time.monotonic()
                if all(state in FINAL_STATES for state in states.values()) or left <= 0:
                    return counts
                batch = await stream.next_batch(within=min(left, recheck_seconds))
                if batch is None or stream.lagged:
                    stream.lagged = False
                    states = await queries.states_of_update(self._engine, update_id)
                    continue
                for outcome in batch:
                    if outcome.delivery_id in states:
                        states[outcome.delivery_id] = outcome.state
