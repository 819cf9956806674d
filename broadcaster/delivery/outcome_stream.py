"""Written delivery outcomes as an async stream that any part of the process can follow.

The result writer publishes each batch once the store has it, so a subscriber never sees an
outcome that is not recorded. The CLI's progress bar follows it today; the console's live grid
is meant to reuse it. A subscriber that falls far behind is not allowed to grow memory without
bound: its queue is dropped and it is told it `lagged`, so it re-reads the store once instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence

from broadcaster.store.claims import RecordedOutcome

Batch = Sequence[RecordedOutcome]


class Subscription:
    def __init__(self, max_batches: int) -> None:
        self._queue: asyncio.Queue[Batch] = asyncio.Queue(maxsize=max_batches)
        self.lagged = False  # batches were dropped: re-read the store before trusting the stream

    def _offer(self, batch: Batch) -> None:
        try:
            self._queue.put_nowait(batch)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self.lagged = True

    async def next_batch(self, within: float) -> Batch | None:
        """The next written batch, or None if none arrives `within` seconds."""
        try:
            async with asyncio.timeout(max(within, 0)):
                return await self._queue.get()
        except TimeoutError:
            return None


class OutcomeStream:
    def __init__(self, *, max_batches_per_subscriber: int = 1000) -> None:
        self._max_batches = max_batches_per_subscriber
        self._subscriptions: set[Subscription] = set()

    def publish(self, batch: Batch) -> None:
        for subscription in self._subscriptions:
            subscription._offer(batch)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription(self._max_batches)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
