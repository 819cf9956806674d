"""The `broadcaster` command: open incidents, post updates, watch them land, run the server.

Start-up is part of the job: a comms officer types these over SSH from a phone. So this module
imports click and nothing else heavy, and each command's module (with SQLAlchemy, aiohttp,
apprise behind it) is imported only when that command runs. The root `--help` is written from
the short help below; a test checks it matches each command's own.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import click

from broadcaster.cli.context import CliContext


class CommandEntry(NamedTuple):
    module: str
    attribute: str
    summary: str  # the first paragraph of the command's help, as `--help` shows it


COMMANDS: dict[str, CommandEntry] = {
    "check": CommandEntry(
        "broadcaster.cli.admin_commands",
        "check",
        "Validate the practice directory and that every secret and provider setting it needs is set.",
    ),
    "confirm": CommandEntry(
        "broadcaster.cli.draft_commands",
        "confirm",
        "Send the draft a monitor raised on INCIDENT, as written (`broadcaster status` shows it).",
    ),
    "discard": CommandEntry(
        "broadcaster.cli.draft_commands",
        "discard",
        "Drop the draft a monitor raised on INCIDENT: none of it is sent.",
    ),
    "drill-report": CommandEntry(
        "broadcaster.cli.drill_commands",
        "drill_report",
        "Show what an exercise (`send --exercise`) delivered per practice and channel, where and how fast.",
    ),
    "list": CommandEntry(
        "broadcaster.cli.status_commands", "list_incidents", "List recent incidents, newest first."
    ),
    "monitor": CommandEntry(
        "broadcaster.cli.monitor_command",
        "monitor",
        "Run the directory's health checks, opening and resolving incidents as they fail and recover.",
    ),
    "publish": CommandEntry(
        "broadcaster.cli.publish_command",
        "publish",
        "Write the public status pages, feeds, CAP alerts and banner data as static files.",
    ),
    "readiness": CommandEntry(
        "broadcaster.cli.readiness_command",
        "readiness",
        "Check every practice's channels would work now: page tokens, SMTP login, Notify key, apprise URLs.",
    ),
    "reopen": CommandEntry(
        "broadcaster.cli.send_commands",
        "reopen",
        'Reopen a resolved INCIDENT: a "Reopened:" message on the same threads, texts included.',
    ),
    "resolve": CommandEntry(
        "broadcaster.cli.send_commands",
        "resolve",
        "Close INCIDENT (the same as `update --status resolved`).",
    ),
    "runbooks": CommandEntry(
        "broadcaster.cli.runbook_commands",
        "runbooks",
        "List the pre-approved incident runbooks and the blanks each one needs.",
    ),
    "send": CommandEntry(
        "broadcaster.cli.send_commands",
        "send",
        "Open an incident and send its first message to every practice in the audience.",
    ),
    "serve": CommandEntry(
        "broadcaster.cli.admin_commands",
        "serve",
        "Run the HTTP API and the dispatcher, which delivers and retries everything queued.",
    ),
    "status": CommandEntry(
        "broadcaster.cli.status_commands",
        "status",
        "Print INCIDENT's practice x channel grid: delivered, retrying, failed or unknown, and why.",
    ),
    "tokens": CommandEntry(
        "broadcaster.cli.account_commands",
        "tokens",
        "Manage API tokens for automation: add (shown once), list, revoke.",
    ),
    "users": CommandEntry(
        "broadcaster.cli.account_commands",
        "users",
        "Manage who may sign in: add, list, disable, reset-password, reset-totp.",
    ),
    "update": CommandEntry(
        "broadcaster.cli.send_commands",
        "update",
        'Add TEXT to INCIDENT\'s thread: a comment, a threaded email, an "Update:" text.',
    ),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command = getattr(importlib.import_module(entry.module), entry.attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # From the table, so `broadcaster --help` imports no command module; shortened as
        # click shortens a command's own help.
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=entry.summary).get_short_help_str(limit))
            for name, entry in sorted(COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from broadcaster.core.errors import BroadcasterError  # noqa: PLC0415

        try:
            return super().invoke(ctx)
        except BroadcasterError as exc:  # raised while loading settings or the directory
            from broadcaster.cli.running import refuse  # noqa: PLC0415

            refuse(exc)


@click.group(cls=_LazyGroup)
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
    cli(prog_name="broadcaster")
