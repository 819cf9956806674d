"""`serve`'s republisher: after every update, the public copy goes to the bucket again.

It wakes when this process writes delivery outcomes (the outcome stream), and otherwise looks
every `poll_seconds` for updates other processes wrote (a command-line send delivers its own).
Each round that carries a new update is recorded against that incident in the audit trail
(`public_copy_published` or `public_copy_failed`), which `broadcaster status` shows like any
channel; a failed copy is tried again after `retry_max_seconds`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import PublishSettings, Settings
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.delivery.outcome_stream import OutcomeStream
from broadcaster.directory.practices import Directory
from broadcaster.incidents.queries import PUBLIC_COPY_ACTIONS
from broadcaster.public.publish import BucketTarget, PublishFailed
from broadcaster.public.site import build_site_files
from broadcaster.store.audit_log import append_audit_events
from broadcaster.store.queries import PublicVersion, public_version
from broadcaster.store.records import AuditEntry

log = structlog.get_logger(__name__)

PUBLISHED, FAILED = PUBLIC_COPY_ACTIONS
ACTOR = "publisher"


class Republisher:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        directory: Directory,
        settings: PublishSettings,
        target: BucketTarget,
        origin: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine, self._directory, self._settings = engine, directory, settings
        self._target, self._origin, self._now = target, origin, clock
        self._published_for: PublicVersion | None = None  # what the copy outside was built from
        self._carried: dict[int, int] = {}  # incident id -> the update seq the copy outside shows
        self._retry_at = 0.0

    async def run(self, outcomes: OutcomeStream | None = None) -> None:
        """Until cancelled: publish now, then whenever something new was written."""
        stream = outcomes or OutcomeStream()
        with stream.subscribe() as subscription:
            while True:
                await self.publish_if_changed()
                # Any written outcome means an update is going out: look at once. Otherwise poll.
                await subscription.next_batch(within=self._settings.poll_seconds)

    async def publish_if_changed(self) -> bool:
        """One round: upload the copy if an update was written since the last good one.
        Returns whether the copy outside is now up to date."""
        try:
            latest = await public_version(self._engine)
            if latest == self._published_for or (self._retry_at and self._now() < self._retry_at):
                return latest == self._published_for
            view, files = await build_site_files(self._engine, self._directory, self._settings)
        except SQLAlchemyError as exc:
            log.warning("public_copy_not_built", error=str(exc))
            return False
        changed = {i.id: i.latest.seq for i in view.incidents if self._carried.get(i.id) != i.latest.seq}
        try:
            uploaded = await self._target.upload(files)
        except PublishFailed as exc:
            self._retry_at = self._now() + self._settings.retry_max_seconds
            log.error(
                "public_copy_failed", target=self._target.describe, attempts=exc.attempts, error=exc.reason
            )
            await self._record(changed, FAILED, {"attempts": exc.attempts, "reason": exc.reason})
            return False
        self._published_for, self._retry_at = latest, 0.0
        self._carried.update(changed)
        log.info("public_copy_published", target=self._target.describe, files=uploaded.files)
        await self._record(changed, PUBLISHED, {"attempts": uploaded.attempts, "files": uploaded.files})
        return True

    async def _record(self, changed: dict[int, int], action: str, detail: dict[str, object]) -> None:
        for incident_id, seq in changed.items():
            entry = AuditEntry(
                ACTOR, self._origin, action, {"update": seq, "target": self._target.describe, **detail}
            )
            try:
                await append_audit_events(self._engine, entry, incident_ids=[incident_id], now=self._now())
            except SQLAlchemyError as exc:  # the copy itself matters more than its record
                log.warning("public_copy_not_recorded", incident=f"INC-{incident_id}", error=str(exc))


def start_republisher(
    engine: AsyncEngine, directory: Directory, settings: Settings, dispatcher: Dispatcher
) -> asyncio.Task[None] | None:
    """`serve`'s republisher as a task, when a bucket is configured; None when none is."""
    if not settings.publish.s3_bucket:
        return None
    republisher = Republisher(
        engine=engine,
        directory=directory,
        settings=settings.publish,
        target=BucketTarget(settings.publish),
        origin=f"serve@{settings.node_name}",
    )
    return asyncio.create_task(republisher.run(dispatcher.writer.outcomes), name="republisher")
