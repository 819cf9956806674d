"""Batch delivery outcomes into few transactions: one write per ~50 ms instead of one per send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.store.claims import RecordedOutcome, record_outcomes
from broadcaster.store.write_queue import write_queue

log = structlog.get_logger(__name__)

OutcomeListener = Callable[[Sequence[RecordedOutcome]], None]


class ResultWriter:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        on_released: Callable[[], None],
        flush_seconds: float = 0.05,
        max_batch: int = 500,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._write_queue = write_queue(engine)
        self._engine = engine
        self._on_released = on_released
        self._flush_seconds = flush_seconds
        self._max_batch = max_batch
        self._clock = clock
        self._pending: list[RecordedOutcome] = []
        self._has_work = asyncio.Event()
        self._listeners: list[OutcomeListener] = []

    def add_listener(self, listener: OutcomeListener) -> None:
        self._listeners.append(listener)

    def add(self, outcome: RecordedOutcome) -> None:
        self._pending.append(outcome)
        self._has_work.set()

    async def run(self) -> None:
        """Flush forever; cancel to stop (call `flush()` afterwards for the remainder)."""
        while True:
            await self._has_work.wait()
            # Let a burst of results gather, unless the batch is already large.
            if len(self._pending) < self._max_batch:
                await asyncio.sleep(self._flush_seconds)
            await self.flush()

    async def flush(self) -> None:
        self._has_work.clear()
        while self._pending:
            batch, self._pending = (
                self._pending[: self._max_batch],
                self._pending[self._max_batch :],
            )
            async with self._write_queue:
                released = await record_outcomes(self._engine, batch, now=self._clock())
            for listener in self._listeners:
                listener(batch)
            if released or any(not o.state.is_final for o in batch):
                self._on_released()
