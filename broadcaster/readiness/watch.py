"""Readiness inside `serve`: check every interval, tell a commissioner once when a channel breaks.

Each change of a practice's channel (ready to not ready, and back) is written to the audit
trail as `channel_readiness_changed`; a restarted server reads them back, so it does not email
again about a channel it already reported. A failed email leaves the change unrecorded, so the
next run tries again.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.directory.practices import Directory
from broadcaster.readiness.alert_email import readiness_alert, send_readiness_alert
from broadcaster.readiness.checks import CellReadiness, ReadinessGrid, check_readiness
from broadcaster.store.audit_log import append_audit
from broadcaster.store.records import AuditEntry
from broadcaster.store.schema import audit_events

log = structlog.get_logger(__name__)

CHANGED = "channel_readiness_changed"
Checker = Callable[[], Awaitable[ReadinessGrid]]
Sender = Callable[[EmailMessage], Awaitable[None]]


class ReadinessWatch:
    """`run_once()` checks and reports changes; `run_forever()` does so every interval."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        settings: Settings,
        directory: Directory,
        clock: Callable[[], float] = time.time,
        check: Checker | None = None,
        send: Sender | None = None,
    ) -> None:
        self._engine, self._settings, self._directory, self._clock = engine, settings, directory, clock
        self._check = check or (lambda: check_readiness(settings=settings, directory=directory, clock=clock))
        self._send = send or (lambda m: send_readiness_alert(m, settings=settings, directory=directory))
        self._known: dict[str, bool] | None = None  # cell key -> ready, as last recorded

    async def run_once(self) -> list[CellReadiness]:
        """Check every channel; email about those that became not ready. Returns those cells."""
        known = self._known if self._known is not None else await recorded_states(self._engine)
        grid = await self._check()
        changed = [c for c in grid.cells if c.ready is not None and known.get(c.key, True) != c.ready]
        broke = [c for c in changed if c.ready is False]
        to = self._settings.readiness.notify_email
        if broke and to:
            names = {p.ods: p.name for p in self._directory.practices}
            message = readiness_alert(broke, to=to, settings=self._settings, names=names, now=self._clock())
            try:
                await self._send(message)
            except Exception as exc:  # the mail did not go (SMTP refused, I/O): tried again next run
                log.warning("readiness_alert_failed", error=type(exc).__name__, cells=len(broke))
                changed = [c for c in changed if c.ready is not False]
                broke = []
        if changed:
            detail = {"changes": {c.key: {"ready": c.ready, "reason": c.reason} for c in changed}}
            entry = AuditEntry(actor="readiness", origin=f"serve@{socket.gethostname()}", action=CHANGED,
                               detail=detail)  # fmt: skip
            await append_audit(self._engine, entry, now=self._clock())
            for cell in changed:
                log.info("channel_readiness_changed", practice=cell.practice, channel=cell.channel.value,
                         ready=cell.ready)  # fmt: skip
        self._known = {**known, **{c.key: bool(c.ready) for c in changed}}
        return broke

    async def run_forever(self) -> None:
        interval = self._settings.readiness.interval_hours * 3600
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the server carries on; the next interval tries again
                log.exception("readiness_run_failed")
            await asyncio.sleep(interval)


async def recorded_states(engine: AsyncEngine) -> dict[str, bool]:
    """Each cell's state as the audit trail last recorded it (changes only, folded in order)."""
    query = select(audit_events.c.detail).where(audit_events.c.action == CHANGED).order_by(audit_events.c.id)
    states: dict[str, bool] = {}
    async with engine.connect() as conn:
        for (detail,) in await conn.execute(query):
            for key, change in dict(detail).get("changes", {}).items():
                states[key] = bool(change.get("ready"))
    return states


def start_readiness_watch(
    engine: AsyncEngine, settings: Settings, directory: Directory
) -> asyncio.Task[None]:
    return asyncio.create_task(
        ReadinessWatch(engine=engine, settings=settings, directory=directory).run_forever()
    )
