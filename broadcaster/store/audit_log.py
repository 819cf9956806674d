"""Audit events written outside an update's own transaction, and reading back the latest of some.

The public copy's publisher records each attempt here against the incidents it carried, so
`broadcaster status` can show whether the copy outside is up to date without a table of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.store.records import AuditEntry
from broadcaster.store.schema import audit_events
from broadcaster.store.transactions import write_transaction


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: float
    actor: str
    action: str
    detail: dict[str, Any]


async def append_audit_events(
    engine: AsyncEngine, entry: AuditEntry, *, incident_ids: Iterable[int], now: float
) -> None:
    """One event per incident, all in one short transaction."""
    rows = [
        {
            "at": now,
            "actor": entry.actor,
            "origin": entry.origin,
            "action": entry.action,
            "incident_id": incident_id,
            "detail": entry.detail,
        }
        for incident_id in incident_ids
    ]
    if not rows:
        return
    async with write_transaction(engine) as conn:
        await conn.execute(insert(audit_events), rows)


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
