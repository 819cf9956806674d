"""The outbox in a real SQLite file: one transaction per update, claims, ordering, lease recovery."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.content.message_content import content_from_text
from broadcaster.core.errors import ContentRefused
from broadcaster.core.models import ChannelKind, DeliveryState, IncidentStatus, Severity
from broadcaster.directory.audience import Audience
from broadcaster.directory.practices import Directory
from broadcaster.incidents.service import Actor, IncidentRequest, IncidentService, UpdateRequest
from broadcaster.store.claims import (
    Attention,
    ClaimedDelivery,
    RecordedOutcome,
    claim_due,
    record_outcomes,
    recover_expired_leases,
)
from broadcaster.store.outbox_writes import UpdateRaced, append_update
from broadcaster.store.queries import endpoints_needing_attention
from broadcaster.store.records import AuditEntry, NewUpdate, StoredUpdate
from broadcaster.store.schema import audit_events, deliveries

ACTOR = Actor("tester", "test")
NOW = 1_000_000.0


def service(engine: AsyncEngine, directory: Directory) -> IncidentService:
    return IncidentService(engine=engine, directory=directory, settings=Settings(), clock=lambda: NOW)


async def open_one(svc: IncidentService, ods: str = "X99001", text: str = "Phones down") -> StoredUpdate:
    return await svc.open(
        IncidentRequest(
            title="Phones",
            severity=Severity.MAJOR,
            content=content_from_text(text, sms_max_segments=2),
            audience=Audience(ods_codes=(ods,)),
        ),
        actor=ACTOR,
    )


async def states(engine: AsyncEngine, update_id: int) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deliveries.c.state).where(deliveries.c.update_id == update_id).order_by(deliveries.c.id)
        )
        return [r.state for r in rows]


def finished(item: ClaimedDelivery) -> RecordedOutcome:
    return RecordedOutcome(
        delivery_id=item.id,
        update_id=item.update_id,
        thread_key=item.thread_key,
        route=item.route,
        recipient=item.recipient,
        state=DeliveryState.DELIVERED,
        attempts=1,
        next_attempt_at=NOW,
        needs_reconcile=False,
        provider_id="p1",
        is_thread_root=True,
    )


async def test_opening_writes_one_delivery_per_practice_channel_recipient(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """Riverside has a page, two mobiles and two mailboxes: five deliveries, all pending."""
    stored = await open_one(service(engine, example_directory))
    assert stored.deliveries == 5
    assert await states(engine, stored.update_id) == ["pending"] * 5


async def test_refused_content_writes_nothing(engine: AsyncEngine, example_directory: Directory) -> None:
    """A refusal happens before the transaction: no incident, no deliveries."""
    svc = service(engine, example_directory)
    with pytest.raises(ContentRefused):
        await open_one(svc, text="Call {no_such_value}")
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(deliveries)) == 0


async def test_update_waits_for_the_previous_message_of_its_thread(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """Update 1 stays blocked until update 0 for the same recipient is delivered."""
    svc = service(engine, example_directory)
    first = await open_one(svc)
    second = await svc.post_update(
        first.incident_id,
        UpdateRequest(
            status=IncidentStatus.IDENTIFIED,
            content=content_from_text("Found it", sms_max_segments=2),
        ),
        actor=ACTOR,
    )
    assert set(await states(engine, second.update_id)) == {"blocked"}

    claimed = await claim_due(engine, route="facebook/outbox", limit=10, owner="a", lease_seconds=60, now=NOW)
    assert [c.seq for c in claimed] == [0]
    released = await record_outcomes(
        engine,
        [finished(claimed[0])],
        now=NOW,
    )
    assert released == 1
    follow_up = await claim_due(
        engine, route="facebook/outbox", limit=10, owner="a", lease_seconds=60, now=NOW
    )
    assert [c.seq for c in follow_up] == [1]


async def test_newest_update_is_claimed_before_an_older_broadcast(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """Another incident opened later is not stuck behind the first one's tail."""
    svc = service(engine, example_directory)
    older = await open_one(svc, ods="X99001")
    newer = await open_one(svc, ods="X99002")
    claimed = await claim_due(engine, route="email/outbox", limit=1, owner="a", lease_seconds=60, now=NOW)
    assert [c.update_id for c in claimed] == [newer.update_id]
    assert older.update_id != newer.update_id


async def test_concurrent_claims_never_share_a_delivery(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """Two workers claiming at once get disjoint sets."""
    svc = service(engine, example_directory)
    await svc.open(
        IncidentRequest(
            title="All",
            severity=Severity.MAJOR,
            content=content_from_text("x", sms_max_segments=2),
            audience=Audience(everyone=True),
        ),
        actor=ACTOR,
    )
    batches = await asyncio.gather(
        *(
            claim_due(engine, route="sms/outbox", limit=3, owner=f"w{i}", lease_seconds=60, now=NOW)
            for i in range(4)
        )
    )
    ids = [c.id for batch in batches for c in batch]
    assert len(ids) == len(set(ids)) == 7


async def test_expired_lease_becomes_unknown_and_is_reconciled(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """A worker that died mid-send may have sent: its delivery is reconciled, not resent blindly."""
    svc = service(engine, example_directory)
    stored = await open_one(svc)
    claimed = await claim_due(
        engine, route="facebook/outbox", limit=1, owner="dead", lease_seconds=10, now=NOW
    )
    assert await recover_expired_leases(engine, now=NOW + 5) == 0
    assert await recover_expired_leases(engine, now=NOW + 11) == 1
    again = await claim_due(
        engine, route="facebook/outbox", limit=1, owner="alive", lease_seconds=10, now=NOW + 11
    )
    assert [c.id for c in again] == [claimed[0].id]
    assert again[0].needs_reconcile
    assert stored.deliveries == 5


async def test_retry_not_yet_due_is_not_claimed(engine: AsyncEngine, example_directory: Directory) -> None:
    """A delivery waiting out its backoff stays put until its time comes."""
    svc = service(engine, example_directory)
    await open_one(svc)
    async with engine.begin() as conn:
        await conn.execute(update(deliveries).values(state="retrying", next_attempt_at=NOW + 30))
    assert (
        await claim_due(engine, route="sms/outbox", limit=5, owner="a", lease_seconds=9, now=NOW + 29) == []
    )
    assert (
        len(await claim_due(engine, route="sms/outbox", limit=5, owner="a", lease_seconds=9, now=NOW + 30))
        == 2
    )


async def test_endpoint_that_works_again_no_longer_needs_attention(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """A page flagged by an expired token is unflagged once a message to it is delivered."""
    svc = service(engine, example_directory)
    await open_one(svc)
    first = (await claim_due(engine, route="facebook/outbox", limit=1, owner="a", lease_seconds=9, now=NOW))[
        0
    ]
    flagged = RecordedOutcome(
        delivery_id=first.id, update_id=first.update_id, thread_key=first.thread_key,
        route=first.route, recipient=first.recipient,
        state=DeliveryState.FAILED, attempts=1, next_attempt_at=NOW, needs_reconcile=False,
        last_error="token expired",
        attention=Attention(first.route, first.recipient, first.practice, "token expired"),
    )  # fmt: skip
    await record_outcomes(engine, [flagged], now=NOW)
    assert await endpoints_needing_attention(engine) == [
        (first.practice, first.route, first.recipient, "token expired")
    ]

    await open_one(svc)
    second = (await claim_due(engine, route="facebook/outbox", limit=1, owner="a", lease_seconds=9, now=NOW))[
        0
    ]
    await record_outcomes(engine, [finished(second)], now=NOW)
    assert await endpoints_needing_attention(engine) == []


async def test_two_updates_at_once_each_carry_their_own_number(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """Two senders update one incident at the same moment: the store takes one as update 1;
    the other is refused before anything is written, read again and rendered again outside the
    transaction, and lands as update 2. Every message names its own update."""
    svc = service(engine, example_directory)
    opened = await open_one(svc)
    request = UpdateRequest(
        status=IncidentStatus.IDENTIFIED, content=content_from_text("Line fault found", sms_max_segments=2)
    )
    first, second = await asyncio.gather(
        svc.post_update(opened.incident_id, request, actor=ACTOR),
        svc.post_update(opened.incident_id, request, actor=ACTOR),
    )
    assert sorted((first.seq, second.seq)) == [1, 2]
    assert first.deliveries == second.deliveries > 0
    async with engine.connect() as conn:
        rows = (await conn.execute(select(deliveries.c.seq, deliveries.c.content))).all()
    for seq, content in rows:
        if seq:  # update 1 says "INC-1.1" (or, by email, "Update 1") and never 2; and the other way
            text, other = json.dumps(content), 3 - seq
            assert f"INC-1.{seq}" in text or f"Update {seq} -" in text
            assert f"INC-1.{other}" not in text
            assert f"Update {other} -" not in text


async def test_an_update_whose_number_was_taken_writes_nothing(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """The store refuses update N when update N already exists, and writes no row of it."""
    svc = service(engine, example_directory)
    opened = await open_one(svc)
    request = UpdateRequest(
        status=IncidentStatus.MONITORING, content=content_from_text("Better", sms_max_segments=2)
    )
    await svc.post_update(opened.incident_id, request, actor=ACTOR)
    with pytest.raises(UpdateRaced):
        await append_update(
            engine,
            incident_id=opened.incident_id,
            expected_seq=1,
            new=NewUpdate(IncidentStatus.RESOLVED, "late", frozenset(), "tester"),
            deliveries=[],
            audit=AuditEntry("tester", "test", "update_posted"),
            now=NOW,
            deadline_seconds=60,
        )
    async with engine.connect() as conn:
        seqs = sorted({r.seq for r in await conn.execute(select(deliveries.c.seq))})
    assert seqs == [0, 1]


async def test_a_failed_cell_is_sent_again_on_request_and_audited(
    engine: AsyncEngine, example_directory: Directory
) -> None:
    """Retry sends again only the failed deliveries of that practice x channel; the claim comes
    back for the dispatcher, and the audit trail says who asked."""
    svc = service(engine, example_directory)
    opened = await open_one(svc)
    [page] = await claim_due(engine, route="facebook/outbox", limit=1, owner="a", lease_seconds=9, now=NOW)
    failed = RecordedOutcome(
        delivery_id=page.id, update_id=page.update_id, thread_key=page.thread_key, route=page.route,
        recipient=page.recipient, state=DeliveryState.FAILED, attempts=1, next_attempt_at=NOW,
        needs_reconcile=False, last_error="token expired",
    )  # fmt: skip
    await record_outcomes(engine, [failed], now=NOW)
    with pytest.raises(ContentRefused, match="nothing failed for X99001 by sms"):
        await svc.retry_failed(
            opened.incident_id, seq=None, practice="X99001", channel=ChannelKind.SMS, actor=ACTOR
        )

    again = await svc.retry_failed(
        opened.incident_id, seq=None, practice="X99001", channel=ChannelKind.FACEBOOK, actor=ACTOR
    )

    assert again == 1
    [reclaimed] = await claim_due(
        engine, route="facebook/outbox", limit=5, owner="b", lease_seconds=9, now=NOW
    )
    assert (reclaimed.id, reclaimed.attempts) == (page.id, 1)
    async with engine.connect() as conn:
        actions = [r.action for r in await conn.execute(select(audit_events.c.action))]
    assert actions == ["incident_opened", "deliveries_retried"]
