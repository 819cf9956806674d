"""Batch delivery outcomes into few transactions, and never lose one when the store says no.

One write per ~50 ms instead of one per send. A batch the store refuses (locked by another
process past the busy timeout, disk full, ...) stays in memory and is written again with
tenacity's exponential backoff until it lands; meanwhile `accepting` is clear, so the
dispatcher sends nothing more whose outcome it could not record either.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base, stop_never

from broadcaster.delivery.outcome_stream import OutcomeStream
from broadcaster.delivery.store_health import StoreHealth
from broadcaster.store.claims import RecordedOutcome, record_outcomes

log = structlog.get_logger(__name__)

RECORDING = "recording outcomes"


class ResultWriter:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        health: StoreHealth,
        on_released: Callable[[], None],
        flush_seconds: float = 0.05,
        max_batch: int = 500,
        backlog_limit: int = 500,
        retry_initial_seconds: float = 0.2,
        retry_max_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._health = health
        self._on_released = on_released
        self._flush_seconds = flush_seconds
        self._max_batch = max_batch
        self._backlog_limit = backlog_limit
        self._wait = wait_exponential_jitter(
            multiplier=retry_initial_seconds, max=retry_max_seconds, jitter=0.1
        )
        self._clock = clock
        self._pending: list[RecordedOutcome] = []  # a batch leaves only once it is written
        self._has_work = asyncio.Event()
        self.accepting = asyncio.Event()  # set: an outcome sent now could be recorded
        self.accepting.set()
        self._failing = False
        self.outcomes = OutcomeStream()  # every batch, once written

    def add(self, outcome: RecordedOutcome) -> None:
        self._pending.append(outcome)
        self._has_work.set()
        self._update_accepting()

    def unwritten_ids(self) -> list[int]:
        return [o.delivery_id for o in self._pending]

    async def run(self) -> None:
        """Flush forever, retrying refused writes; cancel to stop (then `flush_remaining()`)."""
        while True:
            await self._has_work.wait()
            # Let a burst of results gather, unless the batch is already large.
            if len(self._pending) < self._max_batch:
                await asyncio.sleep(self._flush_seconds)
            await self._flush(stop=stop_never)

    async def flush_remaining(self, *, give_up_after: float) -> list[int]:
        """Write what is left (shutdown), retrying for up to `give_up_after` seconds.

        Returns the deliveries whose outcome could still not be written (normally none).
        """
        try:
            await self._flush(stop=stop_after_delay(give_up_after))
        except RetryError:
            log.error("outcomes_not_recorded", deliveries=len(self._pending))
        return self.unwritten_ids()

    async def _flush(self, *, stop: stop_base) -> None:
        self._has_work.clear()
        while self._pending:
            batch = self._pending[: self._max_batch]
            async for attempt in AsyncRetrying(
                wait=self._wait, stop=stop, retry=retry_if_exception_type(Exception), reraise=False
            ):
                with attempt:
                    released = await self._write(batch)
            # Only now, written, does the batch leave memory.
            del self._pending[: len(batch)]
            self._update_accepting()
            self.outcomes.publish(batch)
            if released or any(not o.state.is_final for o in batch):
                self._on_released()

    async def _write(self, batch: list[RecordedOutcome]) -> int:
        try:
            released = await record_outcomes(self._engine, batch, now=self._clock())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # whatever the cause, the outcome must not be dropped
            self._failing = True
            self._update_accepting()
            self._health.failed(RECORDING, exc)
            raise
        self._failing = False
        self._health.succeeded(RECORDING)
        return released

    def _update_accepting(self) -> None:
        if not self._failing and len(self._pending) < self._backlog_limit:
            self.accepting.set()
        else:
            self.accepting.clear()
