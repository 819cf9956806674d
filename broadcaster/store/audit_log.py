"""The audit trail: append events (inside a caller's transaction, on their own, or one per
incident for the public copy's publisher), read them back newest first (`GET /api/audit` and its
CSV), and the latest of some for one incident (`broadcaster status` shows whether the copy outside
is up to date without a table of its own).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadcaster.store.records import AuditEntry
from broadcaster.store.schema import audit_events
from broadcaster.store.transactions import write_transaction


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: float
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: float
    actor: str
    credential: str
    origin: str
    action: str
    incident_id: int | None
    detail: dict[str, Any]


def _row(entry: AuditEntry, *, now: float, incident_id: int | None) -> dict[str, Any]:
    return {
        "at": now,
        "actor": entry.actor,
        "origin": entry.origin,
        "credential": entry.credential,
        "action": entry.action,
        "incident_id": incident_id,
        "detail": entry.detail,
    }


async def insert_audit(
    conn: AsyncConnection, entry: AuditEntry, *, now: float, incident_id: int | None = None
) -> None:
    """Within a caller's write transaction, so the event and what it records commit together."""
    await conn.execute(insert(audit_events).values(**_row(entry, now=now, incident_id=incident_id)))


async def append_audit(engine: AsyncEngine, entry: AuditEntry, *, now: float) -> None:
    """An event that records nothing else (a sign-in, a refused sign-in, an export)."""
    async with write_transaction(engine) as conn:
        await insert_audit(conn, entry, now=now)


async def append_audit_events(
    engine: AsyncEngine, entry: AuditEntry, *, incident_ids: Iterable[int], now: float
) -> None:
    """One event per incident, all in one short transaction."""
    rows = [_row(entry, now=now, incident_id=incident_id) for incident_id in incident_ids]
    if not rows:
        return
    async with write_transaction(engine) as conn:
        await conn.execute(insert(audit_events), rows)


async def read_audit(engine: AsyncEngine, *, limit: int, before_id: int | None = None) -> list[AuditRecord]:
    """Newest first; `before_id` pages back from an earlier answer's last id."""
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_events.c.id < before_id)
    async with engine.connect() as conn:
        rows = await conn.execute(query)
        return [
            AuditRecord(
                id=r.id,
                at=r.at,
                actor=r.actor,
                credential=r.credential,
                origin=r.origin,
                action=r.action,
                incident_id=r.incident_id,
                detail=dict(r.detail),
            )
            for r in rows
        ]


async def latest_audit_event(
    engine: AsyncEngine, incident_id: int, *, actions: Collection[str]
) -> AuditEvent | None:
    """The newest of an incident's events with one of these actions, or None."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(audit_events)
                .where(audit_events.c.incident_id == incident_id, audit_events.c.action.in_(list(actions)))
                .order_by(audit_events.c.id.desc())
                .limit(1)
            )
        ).first()
    if row is None:
        return None
    return AuditEvent(at=row.at, actor=row.actor, action=row.action, detail=dict(row.detail))
