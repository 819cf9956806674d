"""Wire the pieces for one process: database, channel adapters, dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.dispatcher import Dispatcher
from broadcaster.models import FINAL_STATES, DeliveryState
from broadcaster.registry import build_channels
from broadcaster.retry_policy import RetryPolicy
from broadcaster.settings import Settings
from broadcaster.store.engine import create_engine, migrate
from broadcaster.store.queries import progress_of_update

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
    give_up_after: float,
    on_progress: ProgressCallback | None = None,
    poll_seconds: float = 0.2,
) -> Counter[DeliveryState]:
    """Poll an update's deliveries until all are delivered or failed, or `give_up_after` s pass."""
    give_up_at = time.monotonic() + give_up_after
    while True:
        counts = await progress_of_update(engine, update_id)
        if on_progress is not None:
            on_progress(counts)
        settled = all(state in FINAL_STATES for state, n in counts.items() if n)
        if settled or time.monotonic() >= give_up_at:
            return counts
        await asyncio.sleep(poll_seconds)
