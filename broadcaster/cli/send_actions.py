"""What `send`, `update`, `resolve` and `reopen` do once their options are parsed.

Apart from send_commands (the options and help) so that `broadcaster send --help` does not load
the store, the renderer and the dispatcher: this module is imported only when a send runs.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from broadcaster.cli.context import CliContext
from broadcaster.cli.dry_run import print_preview
from broadcaster.cli.exit_codes import ExitCode
from broadcaster.cli.running import run_async, stderr_console, stdout_console
from broadcaster.cli.watch import deliver_and_watch
from broadcaster.content.message_content import MessageContent, content_from_runbook, content_from_text
from broadcaster.core.errors import ContentRefused
from broadcaster.core.incident_refs import IncidentRefError, parse_incident_ref
from broadcaster.core.models import ChannelKind, IncidentStatus, Severity
from broadcaster.delivery.runtime import open_database
from broadcaster.directory.audience import Audience
from broadcaster.incidents.queries import IncidentView
from broadcaster.incidents.service import IncidentRequest, IncidentService, UpdateRequest


def _fields(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{item!r} should look like name=value", param_hint="--field")
        out[name.strip()] = value.strip()
    return out


def open_and_send(
    ctx: CliContext,
    *,
    runbook: str | None,
    title: str | None,
    message: str | None,
    severity: str | None,
    everyone: bool,
    groups: tuple[str, ...],
    ods_codes: tuple[str, ...],
    channels: tuple[str, ...],
    exercise: bool,
    field_values: tuple[str, ...],
    sms: bool | None,
    sms_segments: int | None,
    confidentiality_override: str | None,
    dry_run: bool,
    wait: float,
) -> None:
    fields = _fields(field_values)
    settings, directory = ctx.settings, ctx.directory
    audience = Audience.parse(everyone=everyone, groups=list(groups), ods_codes=list(ods_codes))
    if runbook:
        if message:
            raise click.UsageError("give --runbook or --message, not both")
        book = ctx.runbook(runbook)
        content = content_from_runbook(
            book.texts_for(IncidentStatus.INVESTIGATING, fields),  # names each blank left to fill
            sms_max_segments=sms_segments or book.spec.sms_segments,
            confidentiality_override=confidentiality_override,
        )
        title = title or book.title_for(fields)
        severity = severity or book.spec.severity.value
    elif not (title and message):
        raise click.UsageError("give --runbook NAME, or both --title and --message")
    else:
        content = content_from_text(
            message,
            sms_max_segments=sms_segments or settings.sms.max_segments,
            confidentiality_override=confidentiality_override,
        )
    request = IncidentRequest(
        title=title.strip(),
        severity=Severity(severity or Severity.MAJOR.value),
        content=content,
        audience=audience,
        channels=frozenset(ChannelKind(c) for c in channels) or frozenset(ChannelKind),
        sms=sms,
        runbook=runbook,
        fields=fields,
        exercise=exercise,
    )

    async def go() -> ExitCode:
        if dry_run:
            preview = IncidentService(engine=None, directory=directory, settings=settings).preview_opening(
                request
            )
            print_preview(preview, stdout_console())
            return ExitCode.DELIVERED
        async with open_database(settings) as engine:
            service = IncidentService(engine=engine, directory=directory, settings=settings)
            stored = await service.open(request, actor=ctx.actor())
            kind = " (EXERCISE: test endpoints and the outbox only)" if exercise else ""
            ref = stored.incident_ref
            stdout_console().print(f"Opened {ref}{kind}: {stored.deliveries} messages to send.")
            return await deliver_and_watch(engine, settings, stored, wait=wait, console=stderr_console())

    sys.exit(run_async(go))


def _update_content(
    ctx: CliContext,
    incident: IncidentView,
    *,
    status: IncidentStatus,
    text: str | None,
    fields: dict[str, str],
    sms_segments: int | None,
    override: str | None,
) -> MessageContent:
    """Free text if given; otherwise the incident's runbook text for this status."""
    if text:
        return content_from_text(
            text,
            sms_max_segments=sms_segments or ctx.settings.sms.max_segments,
            confidentiality_override=override,
        )
    if incident.summary.runbook is None:
        raise ContentRefused(
            f"{incident.ref} was not opened from a runbook: write the update's text, "
            f'e.g. broadcaster update {incident.ref} --status {status.value} "..."'
        )
    book = ctx.runbook(incident.summary.runbook)
    return content_from_runbook(
        book.texts_for(status, {**incident.summary.fields, **fields}),
        sms_max_segments=sms_segments or book.spec.sms_segments,
        confidentiality_override=override,
    )


def post_update(
    ctx: CliContext,
    incident: str,
    status: IncidentStatus,
    text: str | None,
    options: dict[str, Any],
    *,
    reopens: bool = False,
) -> None:
    try:
        incident_id = parse_incident_ref(incident)
    except IncidentRefError as exc:
        raise click.BadParameter(str(exc), param_hint="INCIDENT") from None
    fields = _fields(options["field_values"])
    settings, directory = ctx.settings, ctx.directory

    async def go() -> ExitCode:
        async with open_database(settings) as engine:
            service = IncidentService(engine=engine, directory=directory, settings=settings)
            found = await service.incident(incident_id)
            content = _update_content(
                ctx,
                found,
                status=status,
                text=text,
                fields=fields,
                sms_segments=options["sms_segments"],
                override=options["confidentiality_override"],
            )
            request = UpdateRequest(
                status=status, content=content, sms=options["sms"], fields=fields, reopens=reopens
            )
            if options["dry_run"]:
                print_preview(await service.preview_update(incident_id, request), stdout_console())
                return ExitCode.DELIVERED
            stored = await service.post_update(incident_id, request, actor=ctx.actor())
            done = f"Reopened {stored.incident_ref} with update" if reopens else "Posted update"
            stdout_console().print(
                f"{done} {stored.seq} to {stored.incident_ref}: {stored.deliveries} messages to send."
            )
            return await deliver_and_watch(
                engine, settings, stored, wait=options["wait"], console=stderr_console()
            )

    sys.exit(run_async(go))
