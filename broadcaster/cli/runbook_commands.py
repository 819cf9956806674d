"""`broadcaster runbooks` (list them) and `broadcaster runbooks check` (validate them, for CI).
The heavy imports are made inside each command, so its `--help` answers at once.
"""

from __future__ import annotations

import sys

import click

from broadcaster.cli.context import CliContext
from broadcaster.cli.exit_codes import ExitCode


@click.group(invoke_without_command=True)
@click.pass_context
def runbooks(click_ctx: click.Context) -> None:
    """List the pre-approved incident runbooks and the blanks each one needs."""
    from broadcaster.cli.running import stdout_console  # noqa: PLC0415

    if click_ctx.invoked_subcommand is not None:
        return
    ctx: CliContext = click_ctx.obj
    console = stdout_console()
    for name, book in sorted(ctx.runbooks.items()):
        spec = book.spec
        console.print(f"[bold]{name}[/]  ({spec.severity.value})  {spec.title}")
        console.print(f"  {spec.summary}", highlight=False)
        for field_name, field in spec.fields.items():
            default = f"; default: {field.default}" if field.default else ""
            console.print(
                f"  --field {field_name}=...  {field.prompt} (e.g. {field.example}{default})", highlight=False
            )
    console.print(
        f"\n{len(ctx.runbooks)} runbooks in {ctx.runbooks_folder}. Preview one with "
        "`broadcaster send --runbook NAME --field ... --all --dry-run`."
    )


@runbooks.command()
@click.pass_obj
def check(ctx: CliContext) -> None:
    """Validate every runbook: syntax, placeholders, every status, lengths for every practice."""
    from broadcaster.runbooks.check import check_runbooks  # noqa: PLC0415

    practices = list(ctx.directory.practices)
    problems = check_runbooks(ctx.runbooks_folder, practices)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {ctx.runbooks_folder}", err=True)
        sys.exit(ExitCode.REFUSED)
    click.echo(f"All runbooks in {ctx.runbooks_folder} are valid for {len(practices)} practices.")
