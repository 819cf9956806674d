"""Wire the pieces for one process: database, channel adapters, dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.core.models import DeliveryState
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.delivery.registry import build_channels
from broadcaster.delivery.retry_policy import RetryPolicy
from broadcaster.store.engine import create_engine, migrate

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
