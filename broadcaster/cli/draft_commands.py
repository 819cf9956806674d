"""`broadcaster confirm` and `broadcaster discard`: a person's decision on a monitor's draft.

A health check or an alert with the `draft` policy writes its incident (or its update, or its
resolve) held: nothing goes out until someone confirms it here, in the console or with
`POST /api/incidents/{ref}/confirm`. What they do is in draft_actions, imported when one runs.
"""

from __future__ import annotations

import click

from broadcaster.cli.context import CliContext

_UPDATE_OPTION = click.option(
    "--update",
    "seq",
    type=click.IntRange(min=0),
    metavar="N",
    help="The draft's update number as `broadcaster status` shows it: refused if a newer draft waits.",
)


@click.command()
@click.argument("incident")
@_UPDATE_OPTION
@click.option(
    "--wait",
    type=float,
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Deliver from this process, waiting up to SECONDS; 0 only queues for `broadcaster serve`.",
)
@click.pass_obj
def confirm(ctx: CliContext, /, *, incident: str, seq: int | None, wait: float) -> None:
    """Send the draft a monitor raised on INCIDENT, as written (`broadcaster status` shows it).

    A health check or alert with the draft policy holds its incident, update or resolve until a
    person confirms it. Exit status as for `send`; 2 when no draft waits.
    """
    from broadcaster.cli.draft_actions import decide  # noqa: PLC0415  (see module doc)

    decide(ctx, incident, seq=seq, confirm=True, wait=wait)


@click.command()
@click.argument("incident")
@_UPDATE_OPTION
@click.pass_obj
def discard(ctx: CliContext, /, *, incident: str, seq: int | None) -> None:
    """Drop the draft a monitor raised on INCIDENT: none of it is sent.

    A discarded first message ends the incident (never sent, never public); a discarded update
    or resolve leaves the incident as it was. Exit status 2 when no draft waits.
    """
    from broadcaster.cli.draft_actions import decide  # noqa: PLC0415  (see module doc)

    decide(ctx, incident, seq=seq, confirm=False, wait=0.0)
