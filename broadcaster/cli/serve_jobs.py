"""What `broadcaster serve` runs beside the API and the dispatcher, started and stopped together:
the public copy's republisher, the daily readiness check, the heartbeat and the health checks."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.delivery.dispatcher import Dispatcher
from broadcaster.directory.practices import Directory
from broadcaster.monitoring.health_checks import HealthMonitor, run_health_checks
from broadcaster.monitoring.heartbeat import run_heartbeat
from broadcaster.public.republisher import start_republisher
from broadcaster.readiness.watch import start_readiness_watch


def start_side_jobs(
    *,
    engine: AsyncEngine,
    directory: Directory,
    settings: Settings,
    dispatcher: Dispatcher,
    checks: HealthMonitor | None,
) -> list[asyncio.Task[None]]:
    jobs = [start_readiness_watch(engine, settings, directory)]  # every interval_hours
    if (republishing := start_republisher(engine, directory, settings, dispatcher)) is not None:
        jobs.append(republishing)  # only with a bucket configured
    if settings.heartbeat_url is not None:
        beat = run_heartbeat(
            url=settings.heartbeat_url.get_secret_value(),
            every_seconds=settings.heartbeat_seconds,
            engine=engine,
            dispatcher=dispatcher,
        )
        jobs.append(asyncio.create_task(beat, name="heartbeat"))
    if checks is not None:
        jobs.append(asyncio.create_task(run_health_checks(checks), name="health-checks"))
    return jobs


async def stop_side_jobs(jobs: list[asyncio.Task[None]]) -> None:
    for job in jobs:
        job.cancel()
    for job in jobs:
        with contextlib.suppress(asyncio.CancelledError):
            await job
