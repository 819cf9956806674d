"""`broadcaster drill-report`: what an exercise reached, practice by channel, and how fast.
The heavy imports are made inside the command, so its `--help` answers at once.
"""

from __future__ import annotations

import sys
from collections import Counter

import click

from broadcaster.cli.context import CliContext
from broadcaster.cli.exit_codes import ExitCode


@click.command(name="drill-report")
@click.argument("incident")
@click.option("--csv", "as_csv", is_flag=True, help="One row per message as CSV, for a spreadsheet.")
@click.pass_obj
def drill_report(ctx: CliContext, *, incident: str, as_csv: bool) -> None:
    """Show what an exercise (`send --exercise`) delivered per practice and channel, where and how fast.

    Each message's time runs from its update being written to its delivery. Refused (exit
    status 2) for an incident that was not an exercise; otherwise 0 when every message landed,
    3 while some are on their way, 4 when some failed.
    """
    from broadcaster.cli.drill_output import drill_as_csv, print_drill_report  # noqa: PLC0415
    from broadcaster.cli.exit_codes import exit_code_for  # noqa: PLC0415
    from broadcaster.cli.running import run_async, stdout_console  # noqa: PLC0415
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
            report = await IncidentQueries(engine).drill_report(incident_id)
        if as_csv:
            click.echo(drill_as_csv(report, names), nl=False)
        else:
            print_drill_report(report, names, stdout_console())
        return exit_code_for(Counter(line.state for line in report.lines))

    sys.exit(run_async(go))
