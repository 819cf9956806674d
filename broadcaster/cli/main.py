"""The `broadcaster` command: open incidents, post updates, watch them land, run the server."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click
import structlog
from rich.console import Console

from broadcaster.cli.context import CliContext
from broadcaster.cli.exit_codes import ExitCode
from broadcaster.errors import BroadcasterError
from broadcaster.log_setup import SCRUBBER

T = TypeVar("T")
log = structlog.get_logger(__name__)


def stdout_console() -> Console:
    if sys.stdout.isatty():
        return Console(highlight=False)
    # In a pipe or a log: wide enough for grids, and text lines are never broken mid-sentence.
    return Console(highlight=False, width=120, soft_wrap=True)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one command's coroutine; refusals become exit status 2 with the reason on stderr.

    SIGTERM stops it the way Ctrl-C does: sends in flight finish, their outcomes are written and
    every claim not yet attempted is handed back, so nothing waits out a lease.
    """
    try:
        return asyncio.run(_stopped_by_sigterm(factory))
    except BroadcasterError as exc:
        click.echo(f"error: {SCRUBBER.scrub(str(exc))}", err=True)
        sys.exit(ExitCode.REFUSED)
    except (KeyboardInterrupt, asyncio.CancelledError):
        click.echo(
            "interrupted: anything not yet sent stays queued; `broadcaster serve` will send it",
            err=True,
        )
        sys.exit(ExitCode.NOT_FINISHED)


async def _stopped_by_sigterm(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    return await factory()


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BroadcasterError as exc:  # raised while loading settings or the directory
            click.echo(f"error: {SCRUBBER.scrub(str(exc))}", err=True)
            sys.exit(ExitCode.REFUSED)


@click.group(cls=_Group)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Log detail on stderr (default: warning for commands, info for serve).",
)
@click.option("--as", "actor", metavar="NAME", help="Who is acting, for the audit trail.")
@click.version_option(package_name="practice-broadcaster")
@click.pass_context
def cli(ctx: click.Context, log_level: str | None, actor: str | None) -> None:
    """Tell every GP practice's patients what is happening, on every channel, in seconds.

    Settings come from BROADCASTER_* environment variables, a .env file and the secrets
    directory; see the README. Exit status: 0 all delivered, 2 refused (nothing sent),
    3 not finished yet, 4 some deliveries failed.
    """
    ctx.obj = CliContext(log_level=log_level, actor_name=actor)


def main() -> None:
    # Imported here: the command modules use this module's helpers.
    from broadcaster.cli.admin_commands import check, serve  # noqa: PLC0415
    from broadcaster.cli.runbook_commands import runbooks  # noqa: PLC0415
    from broadcaster.cli.send_commands import reopen, resolve, send, update  # noqa: PLC0415
    from broadcaster.cli.status_commands import list_incidents, status  # noqa: PLC0415

    for command in (send, update, resolve, reopen, status, list_incidents, runbooks, check, serve):
        cli.add_command(command)
    cli(prog_name="broadcaster")
