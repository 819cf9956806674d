"""What `confirm` and `discard` do once their options are parsed (imported only when one runs)."""

from __future__ import annotations

import sys

import click

from broadcaster.cli.context import CliContext
from broadcaster.cli.exit_codes import ExitCode
from broadcaster.cli.running import run_async, stderr_console, stdout_console
from broadcaster.cli.watch import deliver_and_watch
from broadcaster.core.incident_refs import IncidentRefError, parse_incident_ref
from broadcaster.delivery.runtime import open_database
from broadcaster.incidents.service import IncidentService


def decide(ctx: CliContext, incident: str, *, seq: int | None, confirm: bool, wait: float) -> None:
    try:
        incident_id = parse_incident_ref(incident)
    except IncidentRefError as exc:
        raise click.BadParameter(str(exc), param_hint="INCIDENT") from None
    settings, directory = ctx.settings, ctx.directory

    async def go() -> ExitCode:
        async with open_database(settings) as engine:
            service = IncidentService(engine=engine, directory=directory, settings=settings)
            if not confirm:
                dropped = await service.discard_draft(incident_id, seq=seq, actor=ctx.actor())
                what = (
                    "its first message: the incident is closed"
                    if dropped.seq == 0
                    else f"update {dropped.seq}"
                )
                stdout_console().print(
                    f"Discarded the draft of {dropped.incident_ref} ({what}); "
                    f"{dropped.deliveries} messages will never be sent."
                )
                return ExitCode.DELIVERED
            stored = await service.confirm_draft(incident_id, seq=seq, actor=ctx.actor())
            stdout_console().print(
                f"Confirmed the draft of {stored.incident_ref} (update {stored.seq}): "
                f"{stored.deliveries} messages to send."
            )
            return await deliver_and_watch(engine, settings, stored, wait=wait, console=stderr_console())

    sys.exit(run_async(go))
