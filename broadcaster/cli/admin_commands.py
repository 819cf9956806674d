"""`broadcaster check` and `broadcaster serve`: for the operator.
The heavy imports are made inside each command, so its `--help` answers at once.
"""

from __future__ import annotations

import asyncio
import signal

import click

from broadcaster.cli.context import CliContext


@click.command()
@click.pass_obj
def check(ctx: CliContext) -> None:
    """Validate the practice directory and that every secret and provider setting it needs is set."""
    from broadcaster.cli.running import stdout_console  # noqa: PLC0415
    from broadcaster.delivery.preflight import check_endpoints_ready  # noqa: PLC0415

    directory = ctx.directory  # raises with every problem listed
    endpoints = [e for p in directory.practices for e in directory.endpoints(p)]
    check_endpoints_ready(ctx.settings, directory.every_endpoint())  # a drill's test pages too
    routes = sorted({e.route for e in endpoints})
    stdout_console().print(
        f"{directory.path}: {len(directory.practices)} practices, {len(endpoints)} endpoints, "
        f"routes {', '.join(routes)}. Everything needed is set."
    )


@click.command()
@click.option("--host", help="Listen address (default: BROADCASTER_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default: BROADCASTER_PORT or 8080).")
@click.pass_obj
def serve(ctx: CliContext, host: str | None, port: int | None) -> None:
    """Run the HTTP API and the dispatcher, which delivers and retries everything queued."""
    import structlog  # noqa: PLC0415
    from aiohttp import web  # noqa: PLC0415

    from broadcaster.accounts.server_keys import load_server_keys  # noqa: PLC0415
    from broadcaster.cli.running import run_async  # noqa: PLC0415
    from broadcaster.cli.serve_jobs import start_side_jobs, stop_side_jobs  # noqa: PLC0415
    from broadcaster.config.log_setup import configure_logging  # noqa: PLC0415
    from broadcaster.delivery.preflight import check_endpoints_ready  # noqa: PLC0415
    from broadcaster.delivery.runtime import open_database, running_dispatcher  # noqa: PLC0415
    from broadcaster.monitoring.health_checks import health_monitor_for  # noqa: PLC0415
    from broadcaster.web.api import make_app  # noqa: PLC0415

    settings = ctx.settings
    configure_logging(
        log_format=settings.log_format,
        level=ctx.log_level or settings.log_level,
        secrets=settings.secret_values(),
    )
    directory = ctx.directory
    # A drill's test endpoints and outbox routes too: serve delivers what `send --exercise` queues.
    endpoints = directory.every_endpoint()
    routes = {e.route for e in endpoints}
    check_endpoints_ready(settings, endpoints)
    keys = load_server_keys(settings)  # read (or created) before the event loop: file I/O
    has_checks = any(p.checks for p in directory.practices) or bool(directory.group_checks)
    runbooks = ctx.runbooks if has_checks and settings.monitor.checks_in_serve else None

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with (
            open_database(settings) as engine,
            running_dispatcher(engine, settings, routes) as dispatcher,
        ):
            checks = (
                health_monitor_for(
                    engine=engine,
                    directory=directory,
                    settings=settings,
                    runbooks=runbooks,
                    acted=dispatcher.wake,
                )
                if runbooks is not None
                else None  # built before serving: a check that could never be sent stops the start
            )
            runner = web.AppRunner(
                make_app(
                    engine=engine, settings=settings, directory=directory, dispatcher=dispatcher, keys=keys
                )
            )
            await runner.setup()
            site = web.TCPSite(runner, host or settings.host, port or settings.port)
            await site.start()
            jobs = start_side_jobs(
                engine=engine, directory=directory, settings=settings, dispatcher=dispatcher, checks=checks
            )
            structlog.get_logger(__name__).info(
                "serving",
                url=f"http://{host or settings.host}:{port or settings.port}",
                practices=len(directory.practices),
                routes=sorted(routes),
            )
            await stop.wait()
            structlog.get_logger(__name__).info("stopping")
            await stop_side_jobs(jobs)
            await runner.cleanup()

    run_async(go)
