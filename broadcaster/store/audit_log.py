"""The audit trail: append an event, read them back newest first (for `GET /api/audit` and its CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadcaster.store.records import AuditEntry
from broadcaster.store.schema import audit_events
from broadcaster.store.transactions import write_transaction


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


async def insert_audit(
    conn: AsyncConnection, entry: AuditEntry, *, now: float, incident_id: int | None = None
) -> None:
    """Within a caller's write transaction, so the event and what it records commit together."""
    await conn.execute(
        insert(audit_events).values(
            at=now,
            actor=entry.actor,
            origin=entry.origin,
            credential=entry.credential,
            action=entry.action,
            incident_id=incident_id,
            detail=entry.detail,
        )
    )


async def append_audit(engine: AsyncEngine, entry: AuditEntry, *, now: float) -> None:
    """An event that records nothing else (a sign-in, a refused sign-in, an export)."""
    async with write_transaction(engine) as conn:
        await insert_audit(conn, entry, now=now)


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
