"""`broadcaster readiness`: would each practice's channels work now? Nothing is sent.
The heavy imports are made inside the command, so its `--help` answers at once.
"""

from __future__ import annotations

import sys

import click

from broadcaster.cli.context import CliContext
from broadcaster.cli.exit_codes import ExitCode


@click.command()
@click.option("--csv", "as_csv", is_flag=True, help="One row per practice and channel, as CSV.")
@click.pass_obj
def readiness(ctx: CliContext, *, as_csv: bool) -> None:
    """Check every practice's channels would work now: page tokens, SMTP login, Notify key, apprise URLs.

    Nothing is sent. Exit status: 0 every channel ready, 4 some not ready, 2 bad configuration.
    """
    from broadcaster.cli.running import run_async, stdout_console  # noqa: PLC0415
    from broadcaster.readiness.checks import check_readiness  # noqa: PLC0415
    from broadcaster.readiness.grid_output import print_readiness_grid, readiness_csv  # noqa: PLC0415

    settings, directory = ctx.settings, ctx.directory
    names = {p.ods: p.name for p in directory.practices}

    async def go() -> ExitCode:
        grid = await check_readiness(settings=settings, directory=directory)
        if as_csv:
            click.echo(readiness_csv(grid, names), nl=False)
        else:
            print_readiness_grid(grid, names, stdout_console())
        return ExitCode.SOME_FAILED if grid.not_ready else ExitCode.DELIVERED

    sys.exit(run_async(go))
