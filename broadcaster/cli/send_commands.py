"""`broadcaster send`, `update`, `resolve` and `reopen`: their options and help.

What they do is in send_actions, imported when one runs, so `--help` answers at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from broadcaster.cli.context import CliContext
from broadcaster.core.models import ChannelKind, IncidentStatus, Severity


def _content_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every sending command shares."""
    for option in reversed(
        [
            click.option(
                "--field",
                "field_values",
                multiple=True,
                metavar="NAME=VALUE",
                help="Fill a runbook blank, e.g. --field systems='phones and the clinical system'.",
            ),
            click.option(
                "--sms/--no-sms",
                default=None,
                help="Send this message by text too (default: texts go out on open, reopen and resolve).",
            ),
            click.option(
                "--sms-segments",
                type=int,
                metavar="N",
                help="Allow texts of up to N segments (default: the runbook's, "
                "else BROADCASTER_SMS__MAX_SEGMENTS).",
            ),
            click.option(
                "--confidentiality-override",
                metavar="REASON",
                help="Send despite what looks like patient-identifying content; REASON is audited.",
            ),
            click.option(
                "--dry-run",
                is_flag=True,
                help="Show what every practice and channel would receive, with SMS cost; send nothing.",
            ),
            click.option(
                "--wait",
                type=float,
                default=300.0,
                show_default=True,
                metavar="SECONDS",
                help="Deliver from this process, waiting up to SECONDS; "
                "0 only queues for `broadcaster serve`.",
            ),
        ]
    ):
        command = option(command)
    return command


@click.command()
@click.option("--runbook", metavar="NAME", help="Use a pre-approved runbook (`broadcaster runbooks`).")
@click.option("--title", help="Short title, kept for the whole incident (default: the runbook's).")
@click.option("--message", help="The first message, when not using a runbook; may use {placeholders}.")
@click.option(
    "--severity", type=click.Choice([s.value for s in Severity]), help="Default: the runbook's, else major."
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
@click.option(
    "--exercise",
    is_flag=True,
    help="A drill: every message is marked EXERCISE and goes only to the practices' test "
    "endpoints (the directory's exercise: block) or the outbox; its updates too. "
    "`broadcaster drill-report` shows what landed.",
)
@_content_options
@click.pass_obj
def send(
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
    """Open an incident and send its first message to every practice in the audience.

    Either --runbook NAME with --field values, or --title and --message.
    """
    from broadcaster.cli.send_actions import open_and_send  # noqa: PLC0415  (see module doc)

    open_and_send(
        ctx,
        runbook=runbook,
        title=title,
        message=message,
        severity=severity,
        everyone=everyone,
        groups=groups,
        ods_codes=ods_codes,
        channels=channels,
        exercise=exercise,
        field_values=field_values,
        sms=sms,
        sms_segments=sms_segments,
        confidentiality_override=confidentiality_override,
        dry_run=dry_run,
        wait=wait,
    )


@click.command()
@click.argument("incident")
@click.argument("text", required=False)
@click.option(
    "--status",
    required=True,
    type=click.Choice([s.value for s in IncidentStatus]),
    help="Where the incident stands now.",
)
@_content_options
@click.pass_obj
def update(ctx: CliContext, /, *, incident: str, text: str | None, status: str, **options: Any) -> None:
    """Add TEXT to INCIDENT's thread: a comment, a threaded email, an "Update:" text.

    Without TEXT, an incident opened from a runbook uses the runbook's text for the status.
    """
    _post_update(ctx, incident, IncidentStatus(status), text, options)


@click.command()
@click.argument("incident")
@click.argument("text", required=False)
@_content_options
@click.pass_obj
def resolve(ctx: CliContext, /, *, incident: str, text: str | None, **options: Any) -> None:
    """Close INCIDENT (the same as `update --status resolved`)."""
    _post_update(ctx, incident, IncidentStatus.RESOLVED, text, options)


@click.command()
@click.argument("incident")
@click.argument("text", required=False)
@_content_options
@click.pass_obj
def reopen(ctx: CliContext, /, *, incident: str, text: str | None, **options: Any) -> None:
    """Reopen a resolved INCIDENT: a "Reopened:" message on the same threads, texts included.

    Its status is investigating again and it takes updates. Without TEXT, an incident opened
    from a runbook uses the runbook's investigating text.
    """
    _post_update(ctx, incident, IncidentStatus.INVESTIGATING, text, options, reopens=True)


def _post_update(
    ctx: CliContext,
    incident: str,
    status: IncidentStatus,
    text: str | None,
    options: dict[str, Any],
    *,
    reopens: bool = False,
) -> None:
    from broadcaster.cli.send_actions import post_update  # noqa: PLC0415  (see module doc)

    post_update(ctx, incident, status, text, options, reopens=reopens)
