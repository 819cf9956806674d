"""Watch ourselves: ping an external dead man's switch (BROADCASTER_HEARTBEAT_URL, such as a
healthchecks.io check) every BROADCASTER_HEARTBEAT_SECONDS while this process could send, and
not while it could not, so someone is told when the broadcaster itself is down or stuck.

"Could send" is what `/readyz` answers 200 for: the store answers a read, every dispatcher loop
runs and no write it needs is failing.
"""

from __future__ import annotations

import asyncio

import aiohttp
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.delivery.store_health import driver_message
from broadcaster.incidents.queries import IncidentQueries

log = structlog.get_logger(__name__)


async def readiness_problems(engine: AsyncEngine, dispatcher: Dispatcher) -> list[str]:
    """Why this process could not send now; empty when it could (the same as `/readyz`)."""
    try:
        await IncidentQueries(engine).recent(limit=1)
    except SQLAlchemyError as exc:
        return [f"reading the store fails: {driver_message(exc)}"]
    problems = [p.describe() for p in dispatcher.health.problems]
    if not dispatcher.running:
        problems.append("the dispatcher is not running")
    return problems


class Heartbeat:
    def __init__(
        self,
        *,
        url: str,
        every_seconds: float,
        engine: AsyncEngine,
        dispatcher: Dispatcher,
        session: aiohttp.ClientSession,
    ) -> None:
        self._url, self._every = url, every_seconds
        self._engine, self._dispatcher, self._session = engine, dispatcher, session

    async def beat(self) -> bool:
        """Ping once if healthy; whether the switch heard it."""
        problems = await readiness_problems(self._engine, self._dispatcher)
        if problems:
            log.warning("heartbeat_withheld", problems=problems)
            return False
        try:
            # Never longer than the interval, so a slow switch cannot pile pings up.
            async with asyncio.timeout(min(self._every, 10.0)), self._session.get(self._url) as reply:
                if reply.status < 400:
                    return True
                log.warning("heartbeat_refused", status=reply.status)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            # The URL is scrubbed from logs as a secret; the error's type says enough.
            log.warning("heartbeat_failed", error=type(exc).__name__)
        return False

    async def run(self) -> None:
        """Until cancelled: a beat, then the interval."""
        while True:
            try:
                await self.beat()
            except Exception:  # a bug here must not stop the beats: logged, tried next time
                log.exception("heartbeat_loop_failed")
            await asyncio.sleep(self._every)


async def run_heartbeat(
    *, url: str, every_seconds: float, engine: AsyncEngine, dispatcher: Dispatcher
) -> None:
    async with aiohttp.ClientSession(headers={"User-Agent": "practice-broadcaster heartbeat"}) as session:
        await Heartbeat(
            url=url, every_seconds=every_seconds, engine=engine, dispatcher=dispatcher, session=session
        ).run()
