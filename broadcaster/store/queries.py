"""Read-only questions about incidents and their deliveries (status grid, progress, lists)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.core.channel_contract import RenderedContent
from broadcaster.core.errors import UnknownIncident
from broadcaster.core.incident_refs import incident_ref
from broadcaster.core.models import ChannelKind, DeliveryState, DraftState, IncidentStatus, Severity
from broadcaster.store.records import DeliveryRecord, IncidentRecord, UpdateRecord
from broadcaster.store.schema import deliveries, endpoint_attention, incidents, updates


@dataclass(frozen=True, slots=True)
class IncidentWithUpdates:
    record: IncidentRecord
    updates: tuple[UpdateRecord, ...]


def _incident(row: Row[tuple[object, ...]]) -> IncidentRecord:
    m = row._mapping
    return IncidentRecord(
        id=m["id"],
        title=m["title"],
        severity=Severity(m["severity"]),
        status=IncidentStatus(m["status"]),
        audience=dict(m["audience"]),
        channels=frozenset(ChannelKind(c) for c in m["channels"]),
        runbook=m["runbook"],
        fields=dict(m["fields"]),
        created_by=m["created_by"],
        created_at=m["created_at"],
        resolved_at=m["resolved_at"],
        exercise=bool(m["exercise"]),
        waiting_draft_seq=m["waiting_draft_seq"],
        sent=bool(m["sent"]),
    )


async def get_incident(engine: AsyncEngine, incident_id: int) -> IncidentWithUpdates:
    async with engine.connect() as conn:
        row = (await conn.execute(select(incidents).where(incidents.c.id == incident_id))).first()
        if row is None:
            raise UnknownIncident(
                f"no incident {incident_ref(incident_id)} in this database; "
                "`broadcaster list` shows the incidents it holds"
            )
        rows = await conn.execute(
            select(updates).where(updates.c.incident_id == incident_id).order_by(updates.c.seq)
        )
        found = tuple(
            UpdateRecord(
                id=u.id,
                seq=u.seq,
                status=IncidentStatus(u.status),
                message=u.message,
                author=u.author,
                created_at=u.created_at,
                draft=DraftState(u.draft) if u.draft else None,
                drafted_at=u.drafted_at,
                decided_by=u.decided_by,
                decided_at=u.decided_at,
            )
            for u in rows
        )
    return IncidentWithUpdates(_incident(row), found)


async def list_incidents(engine: AsyncEngine, *, limit: int = 50) -> list[IncidentRecord]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(incidents).order_by(incidents.c.id.desc()).limit(limit))
        return [_incident(r) for r in rows]


async def deliveries_of(
    engine: AsyncEngine, incident_id: int, *, seq: int | None = None, practices: frozenset[str] | None = None
) -> list[DeliveryRecord]:
    """`practices`: only these practices' rows (None: all)."""
    query = select(deliveries).where(deliveries.c.incident_id == incident_id)
    if practices is not None:
        query = query.where(deliveries.c.practice.in_(sorted(practices)))
    if seq is not None:
        query = query.where(deliveries.c.seq == seq)
    query = query.order_by(
        deliveries.c.practice, deliveries.c.channel, deliveries.c.recipient, deliveries.c.seq
    )
    async with engine.connect() as conn:
        rows = await conn.execute(query)
        return [
            DeliveryRecord(
                id=r.id,
                update_seq=r.seq,
                practice=r.practice,
                channel=ChannelKind(r.channel),
                recipient=r.recipient,
                route=r.route,
                state=DeliveryState(r.state),
                attempts=r.attempts,
                provider_id=r.provider_id,
                last_error=r.last_error,
                delivered_at=r.delivered_at,
                content=RenderedContent.from_json(r.content),
            )
            for r in rows
        ]


async def delivery_counts(
    engine: AsyncEngine, incident_id: int, *, practices: frozenset[str] | None = None
) -> dict[int, Counter[DeliveryState]]:
    """For each update of an incident (by seq), how many of its deliveries (to `practices`, or
    all) are in each state."""
    query = select(deliveries.c.seq, deliveries.c.state, func.count()).where(
        deliveries.c.incident_id == incident_id
    )
    if practices is not None:
        query = query.where(deliveries.c.practice.in_(sorted(practices)))
    async with engine.connect() as conn:
        rows = await conn.execute(query.group_by(deliveries.c.seq, deliveries.c.state))
        counts: dict[int, Counter[DeliveryState]] = {}
        for seq, state, count in rows:
            counts.setdefault(seq, Counter())[DeliveryState(state)] = count
        return counts


async def progress_of_update(engine: AsyncEngine, update_id: int) -> Counter[DeliveryState]:
    """How many of an update's deliveries are in each state."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.state, func.count())
            .where(deliveries.c.update_id == update_id)
            .group_by(deliveries.c.state)
        )
        return Counter({DeliveryState(state): count for state, count in rows})


async def states_of_update(engine: AsyncEngine, update_id: int) -> dict[int, DeliveryState]:
    """Each of an update's deliveries and its state now."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.id, deliveries.c.state).where(deliveries.c.update_id == update_id)
        )
        return {r.id: DeliveryState(r.state) for r in rows}


async def routes_of_update(engine: AsyncEngine, update_id: int) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.route).where(deliveries.c.update_id == update_id).distinct()
        )
        return {r.route for r in rows}


async def endpoints_needing_attention(engine: AsyncEngine) -> list[tuple[str, str, str, str]]:
    """(practice, route, recipient, reason) for endpoints a person must fix."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(endpoint_attention).order_by(endpoint_attention.c.practice))
        return [(r.practice, r.route, r.recipient, r.reason) for r in rows]


PublicVersion = tuple[int, int]


async def public_version(engine: AsyncEngine) -> PublicVersion:
    """(the newest update's id, how many drafts were confirmed): it changes whenever anything
    patients could see changes, since every status change is an update, and a monitor's draft
    becomes public when a person confirms it, with no new update written. (0, 0) when empty."""
    confirmed = func.count().filter(updates.c.draft == DraftState.CONFIRMED.value)
    async with engine.connect() as conn:
        newest, drafts = (await conn.execute(select(func.max(updates.c.id), confirmed))).one()
    return int(newest or 0), int(drafts or 0)


async def list_open_and_recent(engine: AsyncEngine, *, resolved_limit: int) -> list[IncidentRecord]:
    """Every incident not resolved, and the `resolved_limit` most recently resolved; newest first."""
    async with engine.connect() as conn:
        still_open = await conn.execute(select(incidents).where(incidents.c.resolved_at.is_(None)))
        resolved = await conn.execute(
            select(incidents)
            .where(incidents.c.resolved_at.is_not(None))
            .order_by(incidents.c.resolved_at.desc())
            .limit(resolved_limit)
        )
        found = [_incident(r) for r in [*still_open, *resolved]]
    return sorted(found, key=lambda r: r.id, reverse=True)


async def update_times(engine: AsyncEngine, update_ids: Collection[int]) -> dict[int, float]:
    """When each of these updates was written (its trigger), by update id."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(updates.c.id, updates.c.created_at).where(updates.c.id.in_(sorted(update_ids)))
        )
        return {r.id: r.created_at for r in rows}


async def queue_depth(engine: AsyncEngine) -> Counter[DeliveryState]:
    """Deliveries not yet settled, by state (what is waiting to go, or being checked, or, held,
    waiting for a person to confirm their draft)."""
    waiting = [s.value for s in DeliveryState if not s.is_final]
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.state, func.count())
            .where(deliveries.c.state.in_(waiting))
            .group_by(deliveries.c.state)
        )
        return Counter({DeliveryState(state): count for state, count in rows})
