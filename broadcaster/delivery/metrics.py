"""Delivery metrics for Prometheus, counted from the result writer's outcome stream.

    broadcaster_deliveries_total{channel, outcome}        written outcomes (delivered, retrying,
                                                          failed, unknown), this process's only
    broadcaster_delivery_retries_total{channel}           attempts that will be tried again
    broadcaster_trigger_to_acceptance_seconds{channel}    histogram: update written -> provider accepted
    broadcaster_queue_depth{state}                        deliveries not settled yet, read from the
                                                          store at each scrape (every process's)

Counters live in this process (they restart at 0 with it, as Prometheus expects); the queue
depth is the shared store's. Each app has its own registry, so two in one process never mix.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.core.models import DeliveryState
from broadcaster.delivery.outcome_stream import Batch, OutcomeStream
from broadcaster.store import queries

# Seconds: a text lands in well under one; a retried one minutes later; a deadline hours later.
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 7200)


class DeliveryMetrics:
    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine, self._clock = engine, clock
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "broadcaster_deliveries",
            "Delivery outcomes written, by channel and outcome",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "broadcaster_delivery_retries",
            "Attempts that will be tried again",
            ["channel"],
            registry=self.registry,
        )
        self.acceptance = Histogram(
            "broadcaster_trigger_to_acceptance_seconds",
            "From the update being written to the provider accepting the message",
            ["channel"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.queue = Gauge(
            "broadcaster_queue_depth",
            "Deliveries not settled yet, by state",
            ["state"],
            registry=self.registry,
        )
        self._triggered: dict[int, float] = {}  # update id -> when it was written

    async def count(self, batch: Batch) -> None:
        """Count one written batch (from the outcome stream)."""
        delivered = [o for o in batch if o.state is DeliveryState.DELIVERED]
        unknown = {o.update_id for o in delivered} - self._triggered.keys()
        if unknown:
            self._triggered.update(await queries.update_times(self._engine, unknown))
            while len(self._triggered) > 10_000:  # old updates: forget the earliest seen
                del self._triggered[next(iter(self._triggered))]
        for outcome in batch:
            channel = outcome.route.split("/", 1)[0]
            self.deliveries.labels(channel, outcome.state.value).inc()
            if outcome.state is DeliveryState.RETRYING:
                self.retries.labels(channel).inc()
        # Accepted when written: the writer batches for a few milliseconds after the provider's answer.
        now = self._clock()
        for outcome in delivered:
            written = self._triggered.get(outcome.update_id)
            if written is not None:
                self.acceptance.labels(outcome.route.split("/", 1)[0]).observe(max(now - written, 0.0))

    async def exposition(self) -> bytes:
        """The metrics in Prometheus's text format, the queue depth read now."""
        depth = await queries.queue_depth(self._engine)
        for state in DeliveryState:
            if not state.is_final:
                self.queue.labels(state.value).set(depth.get(state, 0))
        return generate_latest(self.registry)


@contextlib.asynccontextmanager
async def counting(metrics: DeliveryMetrics, outcomes: OutcomeStream) -> AsyncIterator[None]:
    """Count every batch `outcomes` publishes while the block runs."""

    async def follow() -> None:
        with outcomes.subscribe() as stream:
            while True:
                batch = await stream.next_batch(within=60)
                if batch:
                    await metrics.count(batch)

    task = asyncio.create_task(follow(), name="delivery-metrics")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
