"""The dispatcher against a real SQLite outbox, with a scripted stand-in adapter.

The stand-in implements the channel contract in memory so these tests can hold sends open,
count what is in flight and make an adapter crash; real adapters are tested against provider
fakes elsewhere.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from broadcaster.config.settings import DispatchSettings, RetrySettings, Settings
from broadcaster.content.message_content import content_from_text
from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.models import ChannelKind, DeliveryState, Severity
from broadcaster.core.outcomes import Delivered, NotFound, ReconcileResult, SendResult
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.delivery.retry_policy import RetryPolicy
from broadcaster.directory.audience import Audience
from broadcaster.directory.practices import Directory, load_directory
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.incidents.service import Actor, IncidentRequest, IncidentService
from broadcaster.store.records import StoredUpdate
from broadcaster.store.schema import deliveries
from channels.outbox.spec import SMS_OUTBOX
from tests.polling import eventually, eventually_async

ROUTE = SMS_OUTBOX


class ScriptedChannel:
    """Holds each send for `delay` seconds or until `gate` opens; remembers order and peak
    concurrency; may crash."""

    route = ROUTE

    def __init__(
        self, *, delay: float = 0.0, gate: asyncio.Event | None = None, crash_for: str | None = None
    ) -> None:
        self.delay, self.gate, self.crash_for = delay, gate, crash_for
        self.sent: list[OutgoingMessage] = []
        self.in_flight = self.peak = 0

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.gate is not None:
                await self.gate.wait()
            if message.recipient == self.crash_for:
                raise KeyError("a bug in an adapter")
            self.sent.append(message)
            return Delivered(f"id-{message.delivery_id}")
        finally:
            self.in_flight -= 1

    async def reconcile(self, message: OutgoingMessage) -> ReconcileResult:
        return NotFound()

    async def close(self) -> None:
        return None


async def many_practices(tmp_path_factory: pytest.TempPathFactory, count: int) -> Directory:
    """A directory of `count` SMS-only practices, loaded off the event loop, which blockbuster watches."""
    path = tmp_path_factory.mktemp("dir") / "practices.yaml"
    rows = [
        f"  - {{ods: D{10000 + i}, name: P{i}, groups: [g{i % 2}], sms: {{provider: outbox, "
        f"recipients: ['07700 900{i:03d}']}}}}"
        for i in range(count)
    ]
    path.write_text("practices:\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return await asyncio.to_thread(load_directory, path)


async def open_incident(engine: AsyncEngine, directory: Directory, audience: Audience) -> StoredUpdate:
    service = IncidentService(engine=engine, directory=directory, settings=Settings())
    request = IncidentRequest(
        title="T",
        severity=Severity.MAJOR,
        audience=audience,
        content=content_from_text("Phones down", sms_max_segments=2),
        channels=frozenset({ChannelKind.SMS}),
    )
    return await service.open(request, actor=Actor("t", "test"))


def dispatcher(engine: AsyncEngine, channel: ScriptedChannel, concurrency: int) -> Dispatcher:
    return Dispatcher(
        engine=engine,
        channels={ROUTE: channel},
        concurrency={ROUTE: concurrency},
        policy=RetryPolicy(RetrySettings()),
        settings=DispatchSettings(idle_poll_seconds=0.05, prefetch_per_route=4),
        owner="test",
    )


@pytest.fixture
async def running() -> AsyncIterator[Callable[[Dispatcher], None]]:
    tasks: list[tuple[Dispatcher, asyncio.Task[None]]] = []

    def start(d: Dispatcher) -> None:
        tasks.append((d, asyncio.create_task(d.run())))

    yield start
    for d, task in tasks:
        d.stop()
        await task


async def states(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(deliveries.c.recipient, deliveries.c.state))
        return {r.recipient: r.state for r in rows}


async def test_concurrency_per_route_is_bounded(
    engine: AsyncEngine, running: Callable[[Dispatcher], None], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Never more sends in flight on a route than its limit, and every delivery is made.

    The sends are held until the test opens the gate, so the limit is reached for certain and
    the dispatcher has claimed its prefetch on top before any send may finish."""
    directory = await many_practices(tmp_path_factory, 40)
    await open_incident(engine, directory, Audience(everyone=True))
    gate = asyncio.Event()
    channel = ScriptedChannel(gate=gate)
    running(dispatcher(engine, channel, concurrency=5))

    async def limit_and_prefetch_claimed() -> bool:
        return list((await states(engine)).values()).count("sending") == 5 + 4

    await eventually_async(limit_and_prefetch_claimed)
    assert channel.in_flight == 5
    gate.set()
    await eventually(lambda: len(channel.sent) == 40)
    assert channel.peak == 5


async def test_adapter_crash_is_recorded_as_failed_and_logged_once(
    engine: AsyncEngine, running: Callable[[Dispatcher], None], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An exception escaping an adapter fails that delivery only, logged once with its traceback."""
    directory = await many_practices(tmp_path_factory, 3)
    await open_incident(engine, directory, Audience(everyone=True))
    crashing = directory.endpoints(directory.practices[1])[0].recipient
    channel = ScriptedChannel(crash_for=crashing)
    with capture_logs() as logs:
        running(dispatcher(engine, channel, concurrency=2))
        await eventually(lambda: len(channel.sent) == 2)

        async def all_settled() -> bool:  # results reach the database in batches
            return set((await states(engine)).values()) <= {"delivered", "failed"}

        await eventually_async(all_settled)
    found = await states(engine)
    assert found[crashing] == "failed"
    assert sorted(found.values()) == ["delivered", "delivered", "failed"]
    crashes = [e for e in logs if e["event"] == "adapter_crashed"]
    assert len(crashes) == 1
    assert crashes[0]["exc_info"] is True


async def test_a_new_update_is_not_starved_by_a_large_broadcast(
    engine: AsyncEngine, running: Callable[[Dispatcher], None], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A second incident queued mid-broadcast goes out before the broadcast's tail."""
    directory = await many_practices(tmp_path_factory, 120)
    await open_incident(engine, directory, Audience(groups=("g0",)))
    channel = ScriptedChannel(delay=0.02)
    d = dispatcher(engine, channel, concurrency=4)
    running(d)
    await eventually(lambda: len(channel.sent) >= 10)
    later = await open_incident(engine, directory, Audience(groups=("g1",)))
    sent_when_queued = len(channel.sent)
    d.wake()
    await eventually(lambda: len(channel.sent) == 120)
    first_of_later = next(i for i, m in enumerate(channel.sent) if m.incident_ref == later.incident_ref)
    last_of_first = max(i for i, m in enumerate(channel.sent) if m.incident_ref != later.incident_ref)
    # Only what was already claimed (4 in flight + 4 prefetched) goes before it, not the tail.
    assert first_of_later <= sent_when_queued + 8
    assert last_of_first > first_of_later


async def test_stopping_hands_back_claims_not_yet_started(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On shutdown, sends in flight finish and prefetched ones return to pending for the next worker."""
    directory = await many_practices(tmp_path_factory, 20)
    await open_incident(engine, directory, Audience(everyone=True))
    gate = asyncio.Event()
    channel = ScriptedChannel(gate=gate)
    d = dispatcher(engine, channel, concurrency=2)
    task = asyncio.create_task(d.run())
    await eventually(lambda: channel.in_flight == 2)
    d.stop()
    gate.set()  # the two in flight may finish only once stopping has begun
    await task
    counts: dict[str, int] = {}
    for state in (await states(engine)).values():
        counts[state] = counts.get(state, 0) + 1
    assert counts == {"delivered": 2, "pending": 18}
    assert len(channel.sent) == 2


async def test_written_outcomes_reach_subscribers_only_once_recorded(
    engine: AsyncEngine, running: Callable[[Dispatcher], None], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The outcome stream carries each delivery's outcome once, and only after the store has it."""
    directory = await many_practices(tmp_path_factory, 12)
    stored = await open_incident(engine, directory, Audience(everyone=True))
    d = dispatcher(engine, ScriptedChannel(), concurrency=3)
    seen: list[int] = []
    with d.writer.outcomes.subscribe() as stream:
        running(d)
        while len(seen) < 12:
            batch = await stream.next_batch(within=10)
            assert batch is not None, f"only {len(seen)} of 12 outcomes arrived"
            recorded = await states_by_id(engine)
            for outcome in batch:
                assert outcome.update_id == stored.update_id
                assert recorded[outcome.delivery_id] == outcome.state.value == "delivered"
                seen.append(outcome.delivery_id)
    assert sorted(seen) == sorted(recorded)


async def test_progress_sees_deliveries_made_by_another_process(
    engine: AsyncEngine, running: Callable[[Dispatcher], None], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Deliveries another dispatcher (a `serve` elsewhere) made reach only the store, not this
    process's stream: `IncidentQueries.follow` still settles on them, by reading the store when its
    own stream is quiet."""
    directory = await many_practices(tmp_path_factory, 10)
    stored = await open_incident(engine, directory, Audience(everyone=True))
    ours = dispatcher(engine, ScriptedChannel(), concurrency=2)  # never started: its stream stays quiet
    elsewhere_channel = ScriptedChannel()
    reports: list[int] = []
    running(dispatcher(engine, elsewhere_channel, concurrency=2))
    counts = await IncidentQueries(engine).follow(
        stored.update_id,
        outcomes=ours.writer.outcomes,
        give_up_after=30,
        on_progress=lambda c: reports.append(c[DeliveryState.DELIVERED]),
        recheck_seconds=0.2,
    )
    assert counts == Counter({DeliveryState.DELIVERED: 10})
    assert len(elsewhere_channel.sent) == 10
    assert reports[-1] == 10
    assert reports == sorted(reports)  # progress never goes backwards


async def states_by_id(engine: AsyncEngine) -> dict[int, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(deliveries.c.id, deliveries.c.state))
        return {r.id: r.state for r in rows}
