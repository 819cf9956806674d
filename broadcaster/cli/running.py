"""How a command runs: its coroutine, its consoles, and refusals turned into exit status 2."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click
from rich.console import Console

from broadcaster.cli.exit_codes import ExitCode
from broadcaster.core.errors import BroadcasterError

T = TypeVar("T")


def stdout_console() -> Console:
    if sys.stdout.isatty():
        return Console(highlight=False)
    # In a pipe or a log: wide enough for grids, and text lines are never broken mid-sentence.
    return Console(highlight=False, width=120, soft_wrap=True)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def refuse(exc: BroadcasterError) -> None:
    """Say why nothing was done, without any secret, and exit 2."""
    from broadcaster.config.log_setup import SCRUBBER  # noqa: PLC0415  (structlog: only on this path)

    click.echo(f"error: {SCRUBBER.scrub(str(exc))}", err=True)
    sys.exit(ExitCode.REFUSED)


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one command's coroutine; refusals become exit status 2 with the reason on stderr.

    SIGTERM stops it the way Ctrl-C does: sends in flight finish, their outcomes are written and
    every claim not yet attempted is handed back, so nothing waits out a lease.
    """
    try:
        return asyncio.run(_stopped_by_sigterm(factory))
    except BroadcasterError as exc:
        refuse(exc)
        raise  # not reached: refuse() exits
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
