"""Wire the pieces for one process: database, channel adapters, dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.core.models import FINAL_STATES, DeliveryState
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.delivery.outcome_stream import OutcomeStream
from broadcaster.delivery.registry import build_channels
from broadcaster.delivery.retry_policy import RetryPolicy
from broadcaster.store.engine import create_engine, migrate
from broadcaster.store.queries import states_of_update

ProgressCallback = Callable[[Counter[DeliveryState]], None]


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url, busy_timeout_seconds=settings.database_busy_timeout_seconds)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def running_dispatcher(
    engine: AsyncEngine, settings: Settings, routes: Iterable[str], *, incident_id: int | None = None
) -> AsyncIterator[Dispatcher]:
    """A dispatcher working in the background for these routes until the block ends
    (for one incident only, when `incident_id` is given)."""
    channel_set = build_channels(settings, routes)
    dispatcher = Dispatcher(
        engine=engine,
        channels=channel_set.channels,
        concurrency=channel_set.concurrency,
        policy=RetryPolicy(settings.retry),
        settings=settings.dispatch,
        owner=settings.node_name,
        incident_id=incident_id,
    )
    task = asyncio.create_task(dispatcher.run(), name="dispatcher")
    try:
        yield dispatcher
    finally:
        dispatcher.stop()
        await task
        await channel_set.close()


async def wait_until_settled(
    engine: AsyncEngine,
    update_id: int,
    *,
    outcomes: OutcomeStream,
    give_up_after: float,
    on_progress: ProgressCallback | None = None,
    recheck_seconds: float = 2.0,
) -> Counter[DeliveryState]:
    """Follow an update's deliveries until all are delivered or failed, or `give_up_after` s pass.

    Progress comes from this process's written outcomes as they land. The store is read again
    only when the stream has been quiet for `recheck_seconds` (or lagged): another process, such
    as `broadcaster serve`, may be delivering some of the same update, and its outcomes reach
    the store but not this stream.
    """
    give_up_at = time.monotonic() + give_up_after
    with outcomes.subscribe() as stream:
        # Subscribed before reading, so nothing written in between is missed.
        states = await states_of_update(engine, update_id)
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
                states = await states_of_update(engine, update_id)
                continue
            for outcome in batch:
                if outcome.delivery_id in states:
                    states[outcome.delivery_id] = outcome.state
