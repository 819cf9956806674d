"""`broadcaster status` and `broadcaster list`: what landed where.
The heavy imports are made inside each command, so its `--help` answers at once.
"""

from __future__ import annotations

import sys

import click

from broadcaster.cli.context import CliContext
from broadcaster.cli.exit_codes import ExitCode, exit_code_for


@click.command()
@click.argument("incident")
@click.option("--update", "seq", type=int, metavar="N", help="Which update to show (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Every delivery as JSON, for scripts.")
@click.pass_obj
def status(ctx: CliContext, *, incident: str, seq: int | None, as_json: bool) -> None:
    """Print INCIDENT's practice x channel grid: delivered, retrying, failed or unknown, and why.

    Exit status: 0 when the update shown is fully delivered, 3 while some are still on their
    way, 4 when some failed (or the public copy outside failed).
    """
    from broadcaster.cli.running import run_async, stdout_console  # noqa: PLC0415
    from broadcaster.cli.status_grid import (  # noqa: PLC0415
        print_attention,
        print_public_copy,
        print_status_grid,
        status_as_json,
    )
    from broadcaster.core.incident_refs import IncidentRefError, parse_incident_ref  # noqa: PLC0415
    from broadcaster.delivery.runtime import open_database  # noqa: PLC0415
    from broadcaster.incidents.queries import IncidentQueries  # noqa: PLC0415

    try:
        incident_id = parse_incident_ref(incident)
    except IncidentRefError as exc:
        raise click.BadParameter(str(exc), param_hint="INCIDENT") from None
    settings = ctx.settings
    names = {p.ods: p.name for p in ctx.directory.practices}

    async def go() -> ExitCode:
        async with open_database(settings) as engine:
            grid = await IncidentQueries(engine).grid(incident_id, seq=seq, every_update=as_json)
        if as_json:
            click.echo(status_as_json(grid))
        else:
            console = stdout_console()
            print_status_grid(grid, names, console)
            print_attention(grid, console)
            print_public_copy(grid, console, bucket_configured=bool(settings.publish.s3_bucket))
        code = exit_code_for(grid.shown_counts())
        if grid.public_copy is not None and not grid.public_copy.ok and code is ExitCode.DELIVERED:
            return ExitCode.SOME_FAILED  # the copy outside failed, like any other channel
        return code

    sys.exit(run_async(go))


@click.command(name="list")
@click.pass_obj
def list_incidents(ctx: CliContext) -> None:
    """List recent incidents, newest first."""
    from broadcaster.cli.running import run_async, stdout_console  # noqa: PLC0415
    from broadcaster.delivery.runtime import open_database  # noqa: PLC0415
    from broadcaster.incidents.queries import IncidentQueries  # noqa: PLC0415

    settings = ctx.settings

    async def go() -> None:
        async with open_database(settings) as engine:
            found = await IncidentQueries(engine).recent()
        console = stdout_console()
        if not found:
            console.print("No incidents yet. `broadcaster send --help` shows how to open one.")
        for record in found:
            drill = "EXERCISE: " if record.exercise and not record.title.startswith("EXERCISE") else ""
            draft = f"{record.draft_label}: " if record.draft_label else ""
            console.print(
                f"{record.ref:<8} {record.status.value:<13} {record.severity.value:<8} "
                f"{draft}{drill}{record.title}  ({record.audience.describe()})",
                markup=False,
            )

    run_async(go)
