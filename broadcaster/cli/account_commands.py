"""`broadcaster users ...` and `broadcaster tokens ...`: who may sign in, and tokens for automation.

What they do is in account_actions, imported when one runs, so `--help` answers at once.
Passwords are read with a hidden prompt (asked twice), or from the first line of standard input
with --password-stdin for scripts; they are never echoed, logged or taken as an argument (an
argument would be in the shell history and in `ps`).
"""

from __future__ import annotations

import click

from broadcaster.cli.context import CliContext

_ROLES = click.Choice(["admin", "commissioner", "practice", "monitor"])
_ODS = click.option(
    "--ods",
    "ods_codes",
    multiple=True,
    metavar="CODE",
    help="A practice this practice-role account acts for (repeat for several).",
)
_PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


@click.group()
def users() -> None:
    """Manage who may sign in: add, list, disable, reset-password, reset-totp."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=_ROLES, help="What they may do (see the README).")
@_ODS
@_PASSWORD_STDIN
@click.pass_obj
def add_user(ctx: CliContext, name: str, role: str, ods_codes: tuple[str, ...], password_stdin: bool) -> None:
    """Add NAME; prints, once, the authenticator set-up URI and ten recovery codes."""
    from broadcaster.cli import account_actions  # noqa: PLC0415  (see module doc)

    account_actions.add_user(ctx, name, role, ods_codes, password_stdin=password_stdin)


@users.command("list")
@click.pass_obj
def list_users(ctx: CliContext) -> None:
    """List users: role, practices, whether disabled, recovery codes left."""
    from broadcaster.cli import account_actions  # noqa: PLC0415

    account_actions.list_users(ctx)


@users.command("disable")
@click.argument("name")
@click.pass_obj
def disable_user(ctx: CliContext, name: str) -> None:
    """Stop NAME signing in; their sessions end at once."""
    from broadcaster.cli import account_actions  # noqa: PLC0415

    account_actions.disable_user(ctx, name)


@users.command("reset-password")
@click.argument("name")
@_PASSWORD_STDIN
@click.pass_obj
def reset_password(ctx: CliContext, name: str, password_stdin: bool) -> None:
    """Give NAME a new password; their sessions end."""
    from broadcaster.cli import account_actions  # noqa: PLC0415

    account_actions.reset_password(ctx, name, password_stdin=password_stdin)


@users.command("reset-totp")
@click.argument("name")
@click.pass_obj
def reset_totp(ctx: CliContext, name: str) -> None:
    """Give NAME a new second factor and recovery codes (printed once); their sessions end."""
    from broadcaster.cli import account_actions  # noqa: PLC0415

    account_actions.reset_totp(ctx, name)


@click.group()
def tokens() -> None:
    """Manage API tokens for automation: add (shown once), list, revoke."""


@tokens.command("add")
@click.argument("name")
@click.option("--role", required=True, type=_ROLES, help="What the token may do (see the README).")
@_ODS
@click.pass_obj
def add_token(ctx: CliContext, name: str, role: str, ods_codes: tuple[str, ...]) -> None:
    """Add a token called NAME; it is printed once, and only its digest is kept."""
    from broadcaster.cli import account_actions  # noqa: PLC0415

    account_actions.add_token(ctx, name, role, ods_codes)


@tokens.command("list")
@click.pass_obj
def list_tokens(ctx: CliContext) -> None:
    """List tokens by name, role and practices, and whether revoked (never the token itself)."""
    from broadcaster.cli import account_actions  # noqa: PLC0415

    account_actions.list_tokens(ctx)


@tokens.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke_token(ctx: CliContext, name: str) -> None:
    """Revoke the token NAME: it is refused from the next request on."""
    from broadcaster.cli import account_actions  # noqa: PLC0415

    account_actions.revoke_token(ctx, name)
