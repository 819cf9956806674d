"""Pace requests under a provider's rate limit without blocking the event loop."""

from __future__ import annotations

import asyncio
import time


class RequestPacer:
    """Token bucket: `burst` requests at once, then one every 60/per_minute s, awaited not spun.

    The default burst is one second's worth (50 at Notify's 3,000 a minute): Notify's own
    bucket would take a minute's worth, but its guidance is to avoid spikes.
    """

    def __init__(self, *, per_minute: int, burst: int | None = None) -> None:
        self._interval = 60.0 / per_minute
        self._burst = float(burst if burst is not None else max(1, per_minute // 60))
        self._tokens = self._burst
        self._updated = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) / self._interval)
        self._updated = now
        self._tokens -= 1  # reserved at once, so waiters leave in arrival order without a lock
        if self._tokens < 0:
            try:
                await asyncio.sleep(-self._tokens * self._interval)
            except asyncio.CancelledError:
                self._tokens += 1  # the slot was never used
                raise
