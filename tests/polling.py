"""Wait for something outside the test's control (a subprocess, a fake server) to become true."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(condition: Callable[[], bool], *, within: float = 20.0, every: float = 0.01) -> None:
    """Poll `condition` until it holds; fail the test after `within` seconds."""
    async with asyncio.timeout(within):
        # Polled, not awaited on an Event: the state lives in another process or server.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(every)


async def eventually_async(
    check: Callable[[], Awaitable[bool]], *, within: float = 20.0, every: float = 0.05
) -> None:
    """Like `eventually`, for a condition that must itself be awaited (an HTTP request, a query)."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110  # polled for the same reason as above
            await asyncio.sleep(every)
