"""`broadcaster send`, `update` and `resolve`: write the outbox, then deliver and watch."""

from __future__ import annotations

import sys

import click

from broadcaster.audience import Audience
from broadcaster.cli.context import CliContext
from broadcaster.cli.dry_run import print_dry_run
from broadcaster.cli.exit_codes import ExitCode
from broadcaster.cli.main import run_async, stderr_console, stdout_console
from broadcaster.cli.watch import deliver_and_watch
from broadcaster.incident_service import IncidentRequest, IncidentService, UpdateRequest
from broadcaster.models import ChannelKind, IncidentStatus, Severity
from broadcaster.render import ChannelTexts
from broadcaster.runtime import open_database
from broadcaster.store.records import parse_incident_ref

_wait_option = click.option(
    "--wait",
    type=float,
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Deliver from this process and wait up to SECONDS for every message to land; "
    "0 only queues them for `broadcaster serve`.",
)
_sms_option = click.option(
    "--sms/--no-sms",
    default=None,
    help="Send this message by text too (default: texts go out on open and on resolve).",
)
_dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Show what every practice and channel would receive; send nothing.",
)


@click.command()
@click.option("--title", required=True, help="Short title, kept for the whole incident.")
@click.option("--message", required=True, help="The first message; may use {placeholders}.")
@click.option(
    "--severity", type=click.Choice([s.value for s in Severity]), default="major", show_default=True
)
@click.option("--all", "everyone", is_flag=True, help="Every practice in the directory.")
@click.option("--group", "groups", multiple=True, metavar="NAME", help="A PCN or locality.")
@click.option("--ods", "ods_codes", multiple=True, metavar="CODE", help="One practice.")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    type=click.Choice([c.value for c in ChannelKind]),
    help="Limit to these channels (default: all the practice has).",
)
@_sms_option
@_dry_run_option
@_wait_option
@click.pass_obj
def send(
    ctx: CliContext,
    *,
    title: str,
    message: str,
    severity: str,
    everyone: bool,
    groups: tuple[str, ...],
    ods_codes: tuple[str, ...],
    channels: tuple[str, ...],
    sms: bool | None,
    dry_run: bool,
    wait: float,
) -> None:
    """Open an incident and send its first message to every practice in the audience."""
    request = IncidentRequest(
        title=title.strip(),
        severity=Severity(severity),
        texts=ChannelTexts.same_everywhere(message),
        summary=message,
        audience=Audience.parse(everyone=everyone, groups=list(groups), ods_codes=list(ods_codes)),
        channels=frozenset(ChannelKind(c) for c in channels) or frozenset(ChannelKind),
        sms=sms,
    )
    settings, directory = ctx.settings, ctx.directory

    async def go() -> ExitCode:
        if dry_run:
            planned = IncidentService(engine=None, directory=directory, settings=settings).plan_opening(
                request
            )
            print_dry_run(planned, stdout_console())
            return ExitCode.DELIVERED
        async with open_database(settings) as engine:
            service = IncidentService(engine=engine, directory=directory, settings=settings)
            stored = await service.open(request, actor=ctx.actor())
            stdout_console().print(f"Opened {stored.incident_ref}: {stored.deliveries} messages to send.")
            return await deliver_and_watch(engine, settings, stored, wait=wait, console=stderr_console())

    sys.exit(run_async(go))


def _post_update(
    ctx: CliContext, incident: str, request: UpdateRequest, *, dry_run: bool, wait: float
) -> None:
    incident_id = parse_incident_ref(incident)
    if incident_id is None:
        raise click.BadParameter(
            f"{incident!r} is not an incident reference like INC-42", param_hint="INCIDENT"
        )
    settings, directory = ctx.settings, ctx.directory

    async def go() -> ExitCode:
        async with open_database(settings) as engine:
            service = IncidentService(engine=engine, directory=directory, settings=settings)
            if dry_run:
                print_dry_run(await service.plan_update(incident_id, request), stdout_console())
                return ExitCode.DELIVERED
            stored = await service.post_update(incident_id, request, actor=ctx.actor())
            stdout_console().print(
                f"Posted update {stored.seq} to {stored.incident_ref}: {stored.deliveries} messages to send."
            )
            return await deliver_and_watch(engine, settings, stored, wait=wait, console=stderr_console())

    sys.exit(run_async(go))


@click.command()
@click.argument("incident")
@click.argument("text")
@click.option(
    "--status",
    required=True,
    type=click.Choice([s.value for s in IncidentStatus]),
    help="Where the incident stands now.",
)
@_sms_option
@_dry_run_option
@_wait_option
@click.pass_obj
def update(
    ctx: CliContext,
    *,
    incident: str,
    text: str,
    status: str,
    sms: bool | None,
    dry_run: bool,
    wait: float,
) -> None:
    """Add TEXT to INCIDENT's thread: a comment, a threaded email, an "Update:" text."""
    request = UpdateRequest(
        status=IncidentStatus(status),
        texts=ChannelTexts.same_everywhere(text),
        summary=text,
        sms=sms,
    )
    _post_update(ctx, incident, request, dry_run=dry_run, wait=wait)


@click.command()
@click.argument("incident")
@click.argument("text")
@_sms_option
@_dry_run_option
@_wait_option
@click.pass_obj
def resolve(
    ctx: CliContext, *, incident: str, text: str, sms: bool | None, dry_run: bool, wait: float
) -> None:
    """Close INCIDENT with TEXT (the same as `update --status resolved`)."""
    request = UpdateRequest(
        status=IncidentStatus.RESOLVED,
        texts=ChannelTexts.same_everywhere(text),
        summary=text,
        sms=sms,
    )
    _post_update(ctx, incident, request, dry_run=dry_run, wait=wait)
