"""The dispatcher's side of the outbox: claim due deliveries, record outcomes, recover leases.

A claim moves rows to `sending` under a lease in one statement (UPDATE ... RETURNING; on
PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED), so two workers never
send the same delivery. Newest update first: a status update is never stuck behind the tail of
a large broadcast, and update N of a thread only becomes claimable (`blocked` -> `pending`)
once update N-1 there is delivered or failed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    Update,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from broadcaster.core.channel_contract import RenderedContent, ThreadContext
from broadcaster.core.models import FINAL_STATES, ChannelKind, DeliveryState, IncidentStatus
from broadcaster.store.schema import deliveries, endpoint_attention
from broadcaster.store.transactions import write_transaction

# Literal, not bound: SQLite only uses the partial index when it can see these exact values.
_CLAIMABLE = text("deliveries.state IN ('pending', 'retrying', 'unknown')")


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    update_id: int
    incident_id: int
    seq: int
    status: IncidentStatus
    practice: str
    channel: ChannelKind
    recipient: str
    route: str
    credential_ref: str | None
    content: RenderedContent
    thread_key: str
    needs_reconcile: bool
    attempts: int  # attempts made before this one
    created_at: float
    deadline_at: float


@dataclass(frozen=True, slots=True)
class Attention:
    route: str
    recipient: str
    practice: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    delivery_id: int
    update_id: int
    thread_key: str
    route: str
    recipient: str
    state: DeliveryState
    attempts: int
    next_attempt_at: float
    needs_reconcile: bool
    provider_id: str | None = None
    is_thread_root: bool = False
    last_error: str | None = None
    attention: Attention | None = None


_CLAIM_COLUMNS = (
    deliveries.c.id,
    deliveries.c.update_id,
    deliveries.c.incident_id,
    deliveries.c.seq,
    deliveries.c.update_status,
    deliveries.c.practice,
    deliveries.c.channel,
    deliveries.c.recipient,
    deliveries.c.route,
    deliveries.c.credential_ref,
    deliveries.c.content,
    deliveries.c.thread_key,
    deliveries.c.needs_reconcile,
    deliveries.c.attempts,
    deliveries.c.created_at,
    deliveries.c.deadline_at,
)


def _claim_statement(*, skip_locked: bool, one_incident: bool) -> Update:
    conditions: list[ColumnElement[bool] | TextClause] = [
        deliveries.c.route == bindparam("b_route"),
        _CLAIMABLE,
        deliveries.c.next_attempt_at <= bindparam("now"),
    ]
    if one_incident:  # a command-line send delivers its own incident and leaves the rest
        conditions.append(deliveries.c.incident_id == bindparam("b_incident"))
    candidates: Select[tuple[int]] = (
        select(deliveries.c.id)
        .where(*conditions)
        .order_by(deliveries.c.update_id.desc(), deliveries.c.id)
        .limit(bindparam("limit"))
    )
    if skip_locked:  # PostgreSQL: workers on other nodes skip rows another is claiming
        candidates = candidates.with_for_update(skip_locked=True)
    return (
        update(deliveries)
        .where(deliveries.c.id.in_(candidates.scalar_subquery()))
        .values(
            state=DeliveryState.SENDING.value,
            lease_owner=bindparam("owner"),
            lease_until=bindparam("until"),
            updated_at=bindparam("now"),
        )
        .returning(*_CLAIM_COLUMNS)
    )


# Built once: SQLAlchemy then reuses their compiled form instead of rebuilding them per call.
_CLAIM = {
    (pg, one): _claim_statement(skip_locked=pg, one_incident=one)
    for pg in (False, True)
    for one in (False, True)
}


async def claim_due(
    engine: AsyncEngine,
    *,
    route: str,
    limit: int,
    owner: str,
    lease_seconds: float,
    now: float,
    incident_id: int | None = None,
) -> list[ClaimedDelivery]:
    """Claim up to `limit` due deliveries of `route` (of one incident only, if given)."""
    statement = _CLAIM[engine.dialect.name == "postgresql", incident_id is not None]
    params = {
        "b_route": route,
        "now": now,
        "limit": limit,
        "owner": owner,
        "until": now + lease_seconds,
        "b_incident": incident_id,
    }
    async with write_transaction(engine) as conn:
        rows = (await conn.execute(statement, params)).all()
    claimed = [
        ClaimedDelivery(
            id=r.id,
            update_id=r.update_id,
            incident_id=r.incident_id,
            seq=r.seq,
            status=IncidentStatus(r.update_status),
            practice=r.practice,
            channel=ChannelKind(r.channel),
            recipient=r.recipient,
            route=r.route,
            credential_ref=r.credential_ref,
            content=RenderedContent.from_json(r.content),
            thread_key=r.thread_key,
            needs_reconcile=bool(r.needs_reconcile),
            attempts=r.attempts,
            created_at=r.created_at,
            deadline_at=r.deadline_at,
        )
        for r in rows
    ]
    claimed.sort(key=lambda c: (-c.update_id, c.id))
    return claimed


_THREAD_HISTORY = (
    select(
        deliveries.c.thread_key, deliveries.c.provider_id, deliveries.c.is_thread_root, deliveries.c.content
    )
    .where(
        deliveries.c.thread_key.in_(bindparam("keys", expanding=True)),
        deliveries.c.state == DeliveryState.DELIVERED.value,
    )
    .order_by(deliveries.c.thread_key, deliveries.c.seq)
)


async def thread_contexts(
    engine: AsyncEngine, claimed: Sequence[ClaimedDelivery]
) -> dict[str, ThreadContext]:
    """For each thread an update belongs to: what its delivered messages left behind."""
    keys = {c.thread_key for c in claimed if c.seq > 0}
    if not keys:
        return {}
    async with engine.connect() as conn:
        rows = (await conn.execute(_THREAD_HISTORY, {"keys": list(keys)})).all()
    contexts: dict[str, ThreadContext] = {}
    for row in rows:
        ctx = contexts.get(row.thread_key, ThreadContext())
        previous = (*ctx.previous_ids, row.provider_id) if row.provider_id else ctx.previous_ids
        root_id, root_body = ctx.root_id, ctx.root_body
        if row.is_thread_root:  # the latest message that opened a thread is the one to follow
            root_id = row.provider_id
            content = RenderedContent.from_json(row.content)
            root_body = content.opening_body or content.body
        contexts[row.thread_key] = ThreadContext(root_id, root_body, previous)
    return contexts


async def record_outcomes(engine: AsyncEngine, outcomes: Sequence[RecordedOutcome], *, now: float) -> int:
    """Write a batch of results; release the next message of every thread that finished.

    Returns how many blocked deliveries became claimable.
    """
    if not outcomes:
        return 0
    params = [
        {
            "_id": o.delivery_id,
            "_state": o.state.value,
            "_attempts": o.attempts,
            "_next": o.next_attempt_at,
            "_reconcile": o.needs_reconcile,
            "_provider_id": o.provider_id,
            "_root": o.is_thread_root,
            "_error": o.last_error,
            "_delivered_at": now if o.state is DeliveryState.DELIVERED else None,
            "_now": now,
        }
        for o in outcomes
    ]
    finished = {o.thread_key for o in outcomes if o.state.is_final}
    async with write_transaction(engine) as conn:
        await conn.execute(_RECORD, params)
        await _update_attention(conn, outcomes, now)
        if not finished:
            return 0
        released = await conn.execute(_RELEASE_SUCCESSORS, {"keys": list(finished), "now": now})
        return released.rowcount


_RECORD = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("_id"))
    .values(
        state=bindparam("_state"),
        attempts=bindparam("_attempts"),
        next_attempt_at=bindparam("_next"),
        needs_reconcile=bindparam("_reconcile"),
        provider_id=func.coalesce(bindparam("_provider_id"), deliveries.c.provider_id),
        is_thread_root=bindparam("_root"),
        last_error=bindparam("_error"),
        delivered_at=bindparam("_delivered_at"),
        lease_owner=None,
        lease_until=None,
        updated_at=bindparam("_now"),
    )
)

_following = deliveries.alias("following")
# A finished message releases the next one of its thread: the lowest-numbered still blocked.
_RELEASE_SUCCESSORS = (
    update(deliveries)
    .where(
        deliveries.c.state == DeliveryState.BLOCKED.value,
        deliveries.c.thread_key.in_(bindparam("keys", expanding=True)),
        deliveries.c.seq
        == select(func.min(_following.c.seq))
        .where(
            _following.c.thread_key == deliveries.c.thread_key,
            _following.c.state == DeliveryState.BLOCKED.value,
        )
        .scalar_subquery(),
    )
    .values(state=DeliveryState.PENDING.value, next_attempt_at=bindparam("now"), updated_at=bindparam("now"))
)


_ANY_ATTENTION = select(endpoint_attention.c.route).limit(1)
_CLEAR_ATTENTION = delete(endpoint_attention).where(
    endpoint_attention.c.route == bindparam("b_route"),
    endpoint_attention.c.recipient == bindparam("b_recipient"),
)


async def _update_attention(conn: AsyncConnection, outcomes: Sequence[RecordedOutcome], now: float) -> None:
    flagged = [o.attention for o in outcomes if o.attention is not None]
    healthy = {(o.route, o.recipient) for o in outcomes if o.state is DeliveryState.DELIVERED}
    # An endpoint that works again no longer needs a person. The table is almost always empty,
    # so look before deleting rather than send every result batch through a delete.
    if healthy and (await conn.execute(_ANY_ATTENTION)).first() is not None:
        await conn.execute(_CLEAR_ATTENTION, [{"b_route": r, "b_recipient": who} for r, who in healthy])
    for item in flagged:
        insert_ = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert_(endpoint_attention).values(
            route=item.route,
            recipient=item.recipient,
            practice=item.practice,
            reason=item.reason,
            since=now,
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["route", "recipient"],
                set_={"reason": item.reason},
            )
        )


async def release_claims(engine: AsyncEngine, *, owner: str, now: float, keep: Collection[int] = ()) -> int:
    """Hand back every claim of `owner` still marked sending (shutdown): they are due again.

    Called once the owner's sends have all finished and their outcomes are written, so what is
    left was never attempted, including a claim committed just as its loop was stopped. `keep`
    lists deliveries that were attempted but whose outcome could not be written: they stay
    claimed until the lease runs out, then are reconciled with the provider before any resend.
    """
    conditions = [deliveries.c.lease_owner == owner, deliveries.c.state == DeliveryState.SENDING.value]
    if keep:
        conditions.append(deliveries.c.id.not_in(list(keep)))
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(deliveries)
            .where(*conditions)
            .values(
                state=literal_column("CASE WHEN needs_reconcile THEN 'unknown' ELSE 'pending' END"),
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
        )
    return result.rowcount


async def recover_expired_leases(engine: AsyncEngine, *, now: float) -> int:
    """A worker died mid-send: its attempt may have landed, so reconcile before resending."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(deliveries)
            .where(deliveries.c.state == DeliveryState.SENDING.value, deliveries.c.lease_until < now)
            .values(
                state=DeliveryState.UNKNOWN.value,
                needs_reconcile=True,
                lease_owner=None,
                lease_until=None,
                next_attempt_at=now,
                updated_at=now,
                last_error="the worker sending this stopped; checking with the provider",
            )
        )
        released = await _sweep_blocked(conn, now)
    return result.rowcount + released


def release_settled_threads(*only: ColumnElement[bool]) -> Update:
    """Blocked deliveries (narrowed by `only`) whose thread has nothing earlier still on its way
    (every earlier message delivered or failed) become pending; bind `now`."""
    earlier = deliveries.alias("earlier")
    still_waiting = (
        select(earlier.c.id)
        .where(
            earlier.c.thread_key == deliveries.c.thread_key,
            earlier.c.seq < deliveries.c.seq,
            earlier.c.state.not_in([s.value for s in FINAL_STATES]),
        )
        .exists()
    )
    return (
        update(deliveries)
        .where(deliveries.c.state == DeliveryState.BLOCKED.value, ~still_waiting, *only)
        .values(
            state=DeliveryState.PENDING.value, next_attempt_at=bindparam("now"), updated_at=bindparam("now")
        )
    )


# Safety net for the release in record_outcomes (e.g. an update written concurrently).
_SWEEP_BLOCKED = release_settled_threads()


async def _sweep_blocked(conn: AsyncConnection, now: float) -> int:
    return (await conn.execute(_SWEEP_BLOCKED, {"now": now})).rowcount


async def next_due_at(engine: AsyncEngine, *, route: str) -> float | None:
    """When the earliest waiting delivery of this route becomes due (None: nothing waiting)."""
    async with engine.connect() as conn:
        value = await conn.scalar(
            select(func.min(deliveries.c.next_attempt_at)).where(deliveries.c.route == route, _CLAIMABLE)
        )
    return float(value) if value is not None else None


async def retry_failed(
    engine: AsyncEngine,
    *,
    incident_id: int,
    seq: int,
    practice: str,
    channel: str,
    now: float,
    deadline_at: float,
) -> int:
    """Send again the failed deliveries of one grid cell (an update's practice x channel), once a
    person has fixed the cause (a new page token, a corrected number). They keep their attempt
    count; a failed attempt never landed, so no reconcile is needed. Returns how many."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            update(deliveries)
            .where(
                deliveries.c.incident_id == incident_id,
                deliveries.c.seq == seq,
                deliveries.c.practice == practice,
                deliveries.c.channel == channel,
                deliveries.c.state == DeliveryState.FAILED.value,
            )
            .values(
                state=DeliveryState.PENDING.value,
                next_attempt_at=now,
                deadline_at=deadline_at,
                last_error=None,
                updated_at=now,
            )
        )
    return result.rowcount
