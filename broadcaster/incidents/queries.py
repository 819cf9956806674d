"""The read side: what the CLI, the HTTP API and the console show about incidents.

One place turns the store's rows into the views people read: the recent list, one incident with
its updates and their delivery counts, the practice x channel grid of an update with the reason
for each failure, and the progress of an update as its outcomes land (followed through the
result writer's outcome stream, not by polling).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.core.errors import UnknownIncident
from broadcaster.core.incident_refs import incident_ref
from broadcaster.core.models import FINAL_STATES, ChannelKind, DeliveryState, IncidentStatus, Severity
from broadcaster.delivery.outcome_stream import OutcomeStream
from broadcaster.directory.audience import Audience
from broadcaster.store import queries
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

    @property
    def ref(self) -> str:
        return incident_ref(self.id)

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
        )


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

    def existing_seq(self, seq: int | None) -> int:
        """`seq`, or the latest update's when None; UnknownIncident if there is no such update."""
        last = self.next_seq - 1
        shown = last if seq is None else seq
        if not 0 <= shown <= last:
            raise UnknownIncident(f"{self.ref} has updates 0 to {last}; there is no update {seq}")
        return shown


@dataclass(frozen=True, slots=True)
class DeliveryGrid:
    """Who got what for one update (or every update): the `status` grid and its reasons."""

    incident: IncidentView
    shown_seq: int
    deliveries: list[DeliveryRecord]  # by practice, channel, recipient, update
    # (practice, route, recipient, reason): endpoints of these practices a person must fix
    attention: list[tuple[str, str, str, str]]

    def shown_counts(self) -> Counter[DeliveryState]:
        return Counter(d.state for d in self.deliveries if d.update_seq == self.shown_seq)


class IncidentQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def recent(self, *, limit: int = 50) -> list[IncidentSummary]:
        """Newest first."""
        return [IncidentSummary.of(r) for r in await queries.list_incidents(self._engine, limit=limit)]

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
        return DeliveryGrid(incident, shown, records, attention)

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
