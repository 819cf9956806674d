"""Write an update and ALL its deliveries in one transaction, before anything is sent.

The deliveries arrive rendered: nothing here renders, checks content or knows audiences. The
two numbers only the transaction can fix are handled without rendering inside it:

- an incident's reference: its first message is rendered with PROVISIONAL_REF, which is
  replaced here by the reference the insert assigns (a string replace, not a render);
- an update's number: the caller rendered it as `expected_seq`. If another update got in
  first, the transaction is refused with UpdateRaced before anything is written, and the caller
  reads the incident again (its status may have changed too), renders again outside any
  transaction and retries. Holding the write lock while rendering thousands of practices
  would stop every other process's writes, outcomes included, for as long.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadcaster.core.channel_contract import RenderedContent
from broadcaster.core.errors import UnknownIncident
from broadcaster.core.incident_refs import incident_ref
from broadcaster.core.models import DeliveryState, DraftState, IncidentStatus
from broadcaster.store.claims import release_settled_threads
from broadcaster.store.drafts import draft_waiting, incident_status_change
from broadcaster.store.records import AuditEntry, NewDelivery, NewIncident, NewUpdate, StoredUpdate
from broadcaster.store.schema import audit_events, deliveries, incidents, updates
from broadcaster.store.transactions import write_transaction


class UpdateRaced(Exception):
    """Another update was written between the caller's read and this write; nothing was written."""

    def __init__(self, incident_id: int, expected_seq: int, next_seq: int) -> None:
        super().__init__(f"{incident_ref(incident_id)}: update {expected_seq} was taken; next is {next_seq}")
        self.next_seq = next_seq


# Fills the incident's reference into its rows (see the module docstring).
_Fill = Callable[[RenderedContent], RenderedContent]
# Rows per INSERT: the loop gets a turn between chunks instead of one long executemany.
_INSERT_CHUNK = 1000


async def open_incident(
    engine: AsyncEngine,
    *,
    incident: NewIncident,
    opening: NewUpdate,
    deliveries: Sequence[NewDelivery],
    audit: AuditEntry,
    now: float,
    deadline_seconds: float,
    draft: bool = False,
) -> StoredUpdate:
    """Number a new incident and write its first message's deliveries, rendered with
    PROVISIONAL_REF where the reference goes. A `draft` is written held: nothing goes out until
    a person confirms it (store.drafts)."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            insert(incidents).values(
                title=incident.title,
                severity=incident.severity.value,
                status=opening.status.value,
                runbook=incident.runbook,
                fields=incident.fields,
                audience=incident.audience,
                channels=sorted(incident.channels),
                created_by=incident.created_by,
                created_at=now,
                exercise=incident.exercise,
                waiting_draft_seq=0 if draft else None,
                sent=not draft,
            )
        )
        incident_id = int(result.inserted_primary_key[0])  # type: ignore[index]  # one-row insert
        ref = incident_ref(incident_id)
        stored = await _write_update(
            conn,
            incident_id=incident_id,
            seq=0,
            new=opening,
            deliveries=deliveries,
            fill=lambda content: content.with_reference(ref),
            now=now,
            deadline_seconds=deadline_seconds,
            draft=draft,
        )
        await _audit(conn, audit, incident_id, now, {"update_seq": 0, "deliveries": stored.deliveries})
        return stored


async def append_update(
    engine: AsyncEngine,
    *,
    incident_id: int,
    expected_seq: int,
    new: NewUpdate,
    deliveries: Sequence[NewDelivery],
    audit: AuditEntry,
    now: float,
    deadline_seconds: float,
    fields: dict[str, str] | None = None,
    draft: bool = False,
) -> StoredUpdate:
    """Write update `expected_seq` of an incident; `fields` replaces its runbook values if given.
    A `draft` is written held, and the incident's status changes only when it is confirmed.

    Raises UpdateRaced, writing nothing, if the incident's last update is no longer
    `expected_seq - 1`. Every status change is an update, so an unchanged number also means the
    status the caller checked its lifecycle rules against still holds: of two resolves at once,
    the second is raced, reads the incident again and finds it resolved.
    """
    async with write_transaction(engine) as conn:
        # FOR UPDATE where the database has row locks; SQLite's write lock is already held.
        found = (
            await conn.execute(
                select(incidents.c.id, incidents.c.waiting_draft_seq)
                .where(incidents.c.id == incident_id)
                .with_for_update()
            )
        ).first()
        if found is None:
            raise UnknownIncident(
                f"no incident {incident_ref(incident_id)}; `broadcaster list` shows the open ones"
            )
        if found.waiting_draft_seq is not None:
            raise draft_waiting(incident_ref(incident_id), found.waiting_draft_seq)
        last = await conn.scalar(select(func.max(updates.c.seq)).where(updates.c.incident_id == incident_id))
        next_seq = (last or 0) + 1
        if next_seq != expected_seq:
            raise UpdateRaced(incident_id, expected_seq, next_seq)
        stored = await _write_update(
            conn,
            incident_id=incident_id,
            seq=next_seq,
            new=new,
            deliveries=deliveries,
            fill=None,
            now=now,
            deadline_seconds=deadline_seconds,
            draft=draft,
        )
        changes: dict[str, object] = {} if fields is None or draft else {"fields": fields}
        if draft:  # its fields, like its status, reach the incident when it is confirmed
            changes["waiting_draft_seq"] = stored.seq
            if fields is not None:
                await conn.execute(
                    update(updates).where(updates.c.id == stored.update_id).values(draft_fields=fields)
                )
        else:
            await conn.execute(_RELEASE_SETTLED_THREADS, {"b_update_id": stored.update_id, "now": now})
            changes.update(incident_status_change(new.status, now))
        if changes:
            await conn.execute(update(incidents).where(incidents.c.id == incident_id).values(**changes))
        await _audit(
            conn,
            audit,
            incident_id,
            now,
            {"update_seq": stored.seq, "deliveries": stored.deliveries},
        )
        return stored


# An update's deliveries are written `blocked`; those whose thread has nothing still on its way
# become pending at once, in one statement.
_RELEASE_SETTLED_THREADS = release_settled_threads(deliveries.c.update_id == bindparam("b_update_id"))


async def _write_update(
    conn: AsyncConnection,
    *,
    incident_id: int,
    seq: int,
    new: NewUpdate,
    deliveries: Sequence[NewDelivery],
    fill: _Fill | None,
    now: float,
    deadline_seconds: float,
    draft: bool,
) -> StoredUpdate:
    result = await conn.execute(
        insert(updates).values(
            incident_id=incident_id,
            seq=seq,
            status=new.status.value,
            message=new.message,
            channels=sorted(new.channels),
            author=new.author,
            created_at=now,
            draft=DraftState.WAITING.value if draft else None,
            drafted_at=now if draft else None,
        )
    )
    update_id = int(result.inserted_primary_key[0])  # type: ignore[index]  # one-row insert
    # An opening message waits for nothing; an update waits until released (see above); a
    # draft's messages are held until a person confirms it.
    state = _first_state(seq, draft=draft)
    shape = _RowShape(incident_id, update_id, seq, new.status, state, now, now + deadline_seconds)
    rows = await asyncio.to_thread(_delivery_rows, deliveries, fill, shape)
    statement = _bulk_insert_sql(conn.dialect.paramstyle)
    for start in range(0, len(rows), _INSERT_CHUNK):
        await conn.exec_driver_sql(statement, rows[start : start + _INSERT_CHUNK])
    return StoredUpdate(incident_id=incident_id, update_id=update_id, seq=seq, deliveries=len(rows))


# The bulk insert goes straight to the driver with ready-made tuples: SQLAlchemy's per-row
# parameter processing cost ~20 us a row on the event loop thread (0.65 s for 32,500 rows).
_DELIVERY_COLUMNS = (
    "update_id", "incident_id", "seq", "update_status", "practice", "channel", "recipient", "route",
    "credential_ref", "content", "thread_key", "state", "needs_reconcile", "attempts",
    "next_attempt_at", "deadline_at", "is_thread_root", "created_at", "updated_at",
)  # fmt: skip


def _bulk_insert_sql(paramstyle: str) -> str:
    if paramstyle == "qmark":
        marks = ["?"] * len(_DELIVERY_COLUMNS)
    elif paramstyle == "numeric_dollar":
        marks = [f"${n}" for n in range(1, len(_DELIVERY_COLUMNS) + 1)]
    else:
        marks = ["%s"] * len(_DELIVERY_COLUMNS)
    columns, values = ", ".join(_DELIVERY_COLUMNS), ", ".join(marks)
    # Only our own constant table and column names: every value travels as a bound parameter.
    return f"INSERT INTO {deliveries.name} ({columns}) VALUES ({values})"  # noqa: S608


def _first_state(seq: int, *, draft: bool) -> DeliveryState:
    if draft:
        return DeliveryState.HELD
    return DeliveryState.PENDING if seq == 0 else DeliveryState.BLOCKED


@dataclass(frozen=True, slots=True)
class _RowShape:
    """What every delivery row of one update shares."""

    incident_id: int
    update_id: int
    seq: int
    status: IncidentStatus
    state: DeliveryState
    now: float
    deadline_at: float


def _delivery_rows(
    deliveries: Sequence[NewDelivery], fill: _Fill | None, shape: _RowShape
) -> list[tuple[Any, ...]]:
    """One tuple per delivery, in _DELIVERY_COLUMNS order, built off the event loop."""
    rows = []
    stored_content: dict[RenderedContent, str] = {}  # recipients of one practice share theirs
    for ep in deliveries:
        content = stored_content.get(ep.content)
        if content is None:
            filled = fill(ep.content) if fill is not None else ep.content
            content = stored_content[ep.content] = json.dumps(filled.to_json())
        thread_key = f"{shape.incident_id}|{ep.practice}|{ep.channel.value}|{ep.recipient}"
        rows.append((
            shape.update_id, shape.incident_id, shape.seq, shape.status.value, ep.practice,
            ep.channel.value, ep.recipient, ep.route, ep.credential_ref,
            content, thread_key, shape.state.value, False, 0,
            shape.now, shape.deadline_at, False, shape.now, shape.now,
        ))  # fmt: skip
    return rows


async def _audit(
    conn: AsyncConnection,
    entry: AuditEntry,
    incident_id: int | None,
    now: float,
    extra: dict[str, object],
) -> None:
    await conn.execute(
        insert(audit_events).values(
            at=now,
            actor=entry.actor,
            origin=entry.origin,
            credential=entry.credential,
            action=entry.action,
            incident_id=incident_id,
            detail={**entry.detail, **extra},
        )
    )


async def record_audit(
    engine: AsyncEngine, entry: AuditEntry, *, incident_id: int | None, now: float
) -> None:
    """An action that writes no update (a retry, say) still goes into the audit trail."""
    async with write_transaction(engine) as conn:
        await _audit(conn, entry, incident_id, now, {})
