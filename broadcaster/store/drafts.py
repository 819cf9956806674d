"""Drafts: an incident or update a monitor wrote for a person to confirm (a `draft` policy).

A draft is written like any update (store.outbox_writes, with `draft=True`) except that its
deliveries are `held`, which no claim takes, and the incident's status does not change yet. One
draft at most waits per incident (`incidents.waiting_draft_seq`), and it is the incident's newest
update: no other update is written while it waits. Here a person (or the monitor, when its
alert goes away first) settles it, in one transaction under the write lock:

- confirm: the held deliveries become due (an update's wait for the previous message of their
  thread, as any update's do), the update's time becomes now (what patients and the delivery
  times see), and the incident takes its status;
- discard: the held deliveries become `discarded`, never sent; a discarded first message ends
  the incident (resolved, never sent, never public).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadcaster.core.errors import LifecycleRefused, UnknownIncident
from broadcaster.core.incident_refs import incident_ref
from broadcaster.core.models import DeliveryState, DraftState, IncidentStatus
from broadcaster.store.alert_causes import CauseState
from broadcaster.store.audit_log import insert_audit
from broadcaster.store.claims import release_settled_threads
from broadcaster.store.records import AuditEntry, StoredUpdate
from broadcaster.store.schema import alert_causes, deliveries, incidents, updates
from broadcaster.store.transactions import write_transaction


def draft_waiting(ref: str, seq: int) -> LifecycleRefused:
    """The refusal for anything that would write past a waiting draft."""
    what = "its first message" if seq == 0 else f"update {seq}"
    return LifecycleRefused(
        f"{ref} has a draft waiting for a person ({what}, raised by a monitor): "
        f"`broadcaster confirm {ref}` sends it, `broadcaster discard {ref}` drops it "
        f"(API: POST /api/incidents/{ref}/confirm or /discard). Nothing was sent."
    )


def incident_status_change(status: IncidentStatus, now: float) -> dict[str, object]:
    """The incident's columns once an update of `status` has gone out."""
    return {"status": status.value, "resolved_at": now if status is IncidentStatus.RESOLVED else None}


@dataclass(frozen=True, slots=True)
class _Waiting:
    update_id: int
    seq: int
    status: IncidentStatus
    fields: dict[str, str] | None  # the runbook values it gives the incident, if any


async def confirm_draft(
    engine: AsyncEngine,
    *,
    incident_id: int,
    seq: int | None,
    audit: AuditEntry,
    now: float,
    deadline_seconds: float,
) -> StoredUpdate:
    """Send the incident's waiting draft (update `seq`, if given, so a person confirms what they
    read and not a newer draft). LifecycleRefused when none waits, or another does."""
    async with write_transaction(engine) as conn:
        waiting = await _waiting_draft(conn, incident_id, seq)
        due = DeliveryState.PENDING if waiting.seq == 0 else DeliveryState.BLOCKED
        held = await conn.execute(
            update(deliveries)
            .where(
                deliveries.c.update_id == waiting.update_id, deliveries.c.state == DeliveryState.HELD.value
            )
            .values(
                state=due.value,
                next_attempt_at=now,
                deadline_at=now + deadline_seconds,
                updated_at=now,
            )
        )
        if waiting.seq:
            await conn.execute(_RELEASE_SETTLED_THREADS, {"b_update_id": waiting.update_id, "now": now})
        await _decide(conn, waiting, DraftState.CONFIRMED, audit.actor, now, sent_at=now)
        changes = {"waiting_draft_seq": None, "sent": True, **incident_status_change(waiting.status, now)}
        if waiting.fields is not None:
            changes["fields"] = waiting.fields
        if waiting.seq == 0:
            changes["created_at"] = now  # opened when it went out; drafted_at keeps when it was raised
        await conn.execute(update(incidents).where(incidents.c.id == incident_id).values(**changes))
        if waiting.status is IncidentStatus.RESOLVED:
            await _resolve_causes(conn, incident_id, now)
        count = held.rowcount
        await insert_audit(conn, _with(audit, waiting.seq, count), now=now, incident_id=incident_id)
    return StoredUpdate(
        incident_id=incident_id, update_id=waiting.update_id, seq=waiting.seq, deliveries=count
    )


async def discard_draft(
    engine: AsyncEngine, *, incident_id: int, seq: int | None, audit: AuditEntry, now: float
) -> StoredUpdate:
    """Drop the incident's waiting draft: its messages are never sent. A discarded first
    message ends the incident. `deliveries` in the answer: how many were discarded."""
    async with write_transaction(engine) as conn:
        waiting = await _waiting_draft(conn, incident_id, seq)
        held = await conn.execute(
            update(deliveries)
            .where(
                deliveries.c.update_id == waiting.update_id, deliveries.c.state == DeliveryState.HELD.value
            )
            .values(state=DeliveryState.DISCARDED.value, updated_at=now)
        )
        await _decide(conn, waiting, DraftState.DISCARDED, audit.actor, now, sent_at=None)
        changes: dict[str, object] = {"waiting_draft_seq": None}
        if waiting.seq == 0:
            changes.update(incident_status_change(IncidentStatus.RESOLVED, now))
            await _resolve_causes(conn, incident_id, now)
        await conn.execute(update(incidents).where(incidents.c.id == incident_id).values(**changes))
        count = held.rowcount
        await insert_audit(conn, _with(audit, waiting.seq, count), now=now, incident_id=incident_id)
    return StoredUpdate(
        incident_id=incident_id, update_id=waiting.update_id, seq=waiting.seq, deliveries=count
    )


async def _waiting_draft(conn: AsyncConnection, incident_id: int, seq: int | None) -> _Waiting:
    ref = incident_ref(incident_id)
    found = (
        await conn.execute(
            select(incidents.c.waiting_draft_seq).where(incidents.c.id == incident_id).with_for_update()
        )
    ).first()
    if found is None:
        raise UnknownIncident(f"no incident {ref}; `broadcaster list` shows the incidents held")
    waiting = found.waiting_draft_seq
    if waiting is None:
        raise LifecycleRefused(
            f"{ref} has no draft waiting: only what a monitor raised with the draft policy waits "
            f"for a person (`broadcaster status {ref}` shows what was sent). Nothing was changed."
        )
    if seq is not None and seq != waiting:
        raise LifecycleRefused(
            f"{ref}'s waiting draft is update {waiting}, not {seq}: a monitor wrote a newer one; "
            f"read it (`broadcaster status {ref}`) and decide again. Nothing was changed."
        )
    row = (
        await conn.execute(
            select(updates.c.id, updates.c.status, updates.c.draft_fields).where(
                updates.c.incident_id == incident_id, updates.c.seq == waiting
            )
        )
    ).one()
    return _Waiting(update_id=row.id, seq=waiting, status=IncidentStatus(row.status), fields=row.draft_fields)


async def _decide(
    conn: AsyncConnection,
    waiting: _Waiting,
    decision: DraftState,
    who: str,
    now: float,
    *,
    sent_at: float | None,
) -> None:
    values: dict[str, object] = {"draft": decision.value, "decided_by": who, "decided_at": now}
    if sent_at is not None:
        values["created_at"] = sent_at
    await conn.execute(update(updates).where(updates.c.id == waiting.update_id).values(**values))


async def _resolve_causes(conn: AsyncConnection, incident_id: int, now: float) -> None:
    """The monitors' causes this incident was for are over too: a new failure opens a new one."""
    await conn.execute(
        update(alert_causes)
        .where(alert_causes.c.incident_id == incident_id, alert_causes.c.state == CauseState.OPEN.value)
        .values(state=CauseState.RESOLVED.value, updated_at=now)
    )


def _with(audit: AuditEntry, seq: int, count: int) -> AuditEntry:
    return AuditEntry(
        audit.actor,
        audit.origin,
        audit.action,
        {**audit.detail, "update_seq": seq, "deliveries": count},
        credential=audit.credential,
    )


# A confirmed update's deliveries wait for the previous message of their thread, as any update's.
_RELEASE_SETTLED_THREADS = release_settled_threads(deliveries.c.update_id == bindparam("b_update_id"))
