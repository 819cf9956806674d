"""What `broadcaster users` and `broadcaster tokens` do once their options are parsed."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import click
from rich.table import Table

from broadcaster.accounts.permissions import Role, parse_role
from broadcaster.accounts.server_keys import load_server_keys
from broadcaster.accounts.service import AccountService, SecondFactorSetup, check_scope
from broadcaster.cli.context import CliContext
from broadcaster.cli.running import run_async, stdout_console
from broadcaster.core.errors import ConfigError
from broadcaster.delivery.runtime import open_database

T = TypeVar("T")


def _with_accounts(ctx: CliContext, work: Callable[[AccountService], Awaitable[T]]) -> T:
    settings = ctx.settings
    keys = load_server_keys(settings)  # file I/O, before the event loop starts

    async def go() -> T:
        async with open_database(settings) as engine:
            return await work(AccountService(engine=engine, keys=keys))

    return run_async(go)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise ConfigError("--password-stdin: standard input held no password on its first line")
        return password
    value = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    return str(value)


def _scope(ctx: CliContext, role: Role, ods_codes: tuple[str, ...]) -> tuple[str, ...]:
    known = set(ctx.directory.by_ods()) if ods_codes else set()
    return check_scope(role, ods_codes, known=known)


def _print_setup(name: str, setup: SecondFactorSetup) -> None:
    out = stdout_console()
    out.print(
        f"Second factor for {name}: add this to an authenticator app (scan it as a QR code, or "
        "type it in). It is shown only now:"
    )
    out.print(setup.provisioning_uri, soft_wrap=True, markup=False)
    out.print("Recovery codes (each works once, in place of a code; keep them somewhere safe):")
    for code in setup.recovery_codes:
        out.print(f"  {code}", markup=False)


def add_user(
    ctx: CliContext, name: str, role_name: str, ods_codes: tuple[str, ...], *, password_stdin: bool
) -> None:
    role = parse_role(role_name)
    codes = _scope(ctx, role, ods_codes)
    password = _password(password_stdin)
    setup = _with_accounts(
        ctx,
        lambda accounts: accounts.add_user(
            name=name, role=role, ods_codes=codes, password=password, by=ctx.actor()
        ),
    )
    stdout_console().print(
        f"Added {name} ({role}{' for ' + ', '.join(codes) if codes else ''}).", markup=False
    )
    _print_setup(name, setup)


def list_users(ctx: CliContext) -> None:
    found = _with_accounts(ctx, lambda accounts: accounts.users())
    table = Table("user", "role", "practices", "state", "recovery codes left", "added")
    for u in found:
        table.add_row(
            u.name,
            u.role.value,
            ", ".join(u.ods_codes) or "-",
            "disabled" if u.disabled else "active",
            str(u.recovery_codes_left),
            _when(u.created_at),
        )
    stdout_console().print(table if found else "No users yet: `broadcaster users add NAME --role admin`.")


def disable_user(ctx: CliContext, name: str) -> None:
    _with_accounts(ctx, lambda accounts: accounts.disable_user(name, by=ctx.actor()))
    stdout_console().print(f"Disabled {name}: they can no longer sign in.", markup=False)


def reset_password(ctx: CliContext, name: str, *, password_stdin: bool) -> None:
    password = _password(password_stdin)
    _with_accounts(ctx, lambda accounts: accounts.reset_password(name, password, by=ctx.actor()))
    stdout_console().print(f"New password set for {name}; their sessions have ended.", markup=False)


def reset_totp(ctx: CliContext, name: str) -> None:
    setup = _with_accounts(ctx, lambda accounts: accounts.reset_second_factor(name, by=ctx.actor()))
    _print_setup(name, setup)


def add_token(ctx: CliContext, name: str, role_name: str, ods_codes: tuple[str, ...]) -> None:
    role = parse_role(role_name)
    codes = _scope(ctx, role, ods_codes)
    token = _with_accounts(
        ctx, lambda accounts: accounts.add_token(name=name, role=role, ods_codes=codes, by=ctx.actor())
    )
    out = stdout_console()
    out.print(
        f"Token {name} ({role}); send it as 'Authorization: Bearer <token>'. Shown only now:", markup=False
    )
    out.print(token, markup=False)


def list_tokens(ctx: CliContext) -> None:
    found = _with_accounts(ctx, lambda accounts: accounts.tokens())
    table = Table("token", "role", "practices", "state", "added")
    for t in found:
        state = f"revoked {_when(t.revoked_at)}" if t.revoked_at is not None else "live"
        table.add_row(t.name, t.role, ", ".join(t.ods_codes) or "-", state, _when(t.created_at))
    stdout_console().print(table if found else "No tokens yet: `broadcaster tokens add NAME --role ROLE`.")


def revoke_token(ctx: CliContext, name: str) -> None:
    _with_accounts(ctx, lambda accounts: accounts.revoke_token(name, by=ctx.actor()))
    stdout_console().print(f"Revoked {name}.", markup=False)


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
