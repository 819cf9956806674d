"""`broadcaster monitor`: the directory's health checks and the dispatcher, without the HTTP API."""

from __future__ import annotations

import asyncio
import signal

import click

from broadcaster.cli.context import CliContext


@click.command()
@click.pass_obj
def monitor(ctx: CliContext) -> None:
    """Run the directory's health checks, opening and resolving incidents as they fail and recover.

    The same checks `broadcaster serve` runs (set BROADCASTER_MONITOR__CHECKS_IN_SERVE=false
    there when this runs them instead), with the dispatcher that sends what they open.
    """
    import structlog  # noqa: PLC0415

    from broadcaster.cli.running import run_async  # noqa: PLC0415
    from broadcaster.config.log_setup import configure_logging  # noqa: PLC0415
    from broadcaster.core.errors import ConfigError  # noqa: PLC0415
    from broadcaster.delivery.preflight import check_endpoints_ready  # noqa: PLC0415
    from broadcaster.delivery.runtime import open_database, running_dispatcher  # noqa: PLC0415
    from broadcaster.monitoring.health_checks import health_monitor_for, run_health_checks  # noqa: PLC0415
    from broadcaster.monitoring.heartbeat import run_heartbeat  # noqa: PLC0415

    settings, directory = ctx.settings, ctx.directory
    configure_logging(
        log_format=settings.log_format,
        level=ctx.log_level or settings.log_level,
        secrets=settings.secret_values(),
    )
    endpoints = [e for p in directory.practices for e in directory.endpoints(p)]
    check_endpoints_ready(settings, endpoints)
    if not any(p.checks for p in directory.practices) and not directory.group_checks:
        raise ConfigError(
            f"{directory.path} declares no health checks: add `checks:` to a practice or at the top "
            "level for a group (docs/directory.md, Health checks)"
        )
    runbooks = ctx.runbooks  # read before the event loop: file I/O

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with (
            open_database(settings) as engine,
            running_dispatcher(engine, settings, {e.route for e in endpoints}) as dispatcher,
        ):
            checks = health_monitor_for(
                engine=engine,
                directory=directory,
                settings=settings,
                runbooks=runbooks,
                acted=dispatcher.wake,
            )
            background: list[asyncio.Task[None]] = [asyncio.create_task(run_health_checks(checks))]
            if settings.heartbeat_url is not None:
                beat = run_heartbeat(
                    url=settings.heartbeat_url.get_secret_value(),
                    every_seconds=settings.heartbeat_seconds,
                    engine=engine,
                    dispatcher=dispatcher,
                )
                background.append(asyncio.create_task(beat))
            structlog.get_logger(__name__).info(
                "monitoring",
                checks=sum(len(c.targets) for c in checks.causes),
                kinds=[c.name for c in checks.causes],
            )
            await stop.wait()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)

    run_async(go)
