"""`broadcaster check` and configuration errors: what an operator sees before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import run_cli

DIRECTORY = """practices:
  - ods: Y00001
    name: Riverside Surgery
    facebook: {page_id: "100000000000001", token: fb_y00001}
    sms: {recipients: ["07700 900001"], provider: notify}
"""


def test_check_passes_for_the_shipped_example(tmp_path: Path) -> None:
    """The example directory needs no secrets: check says so and exits 0."""
    result = run_cli(tmp_path, "check")
    assert result.code == 0, result.err
    assert "6 practices" in result.out
    assert "Everything needed is set." in result.out


def test_check_names_every_missing_secret_and_setting_with_its_variable(tmp_path: Path) -> None:
    """A real directory without its secrets: each gap named with the practice and the variable."""
    (tmp_path / "practices.yaml").write_text(DIRECTORY, encoding="utf-8")
    result = run_cli(tmp_path, "check", env={"BROADCASTER_DIRECTORY": str(tmp_path / "practices.yaml")})
    assert result.code == 2
    assert "practice Y00001, field facebook.token: secret 'fb_y00001' is not set" in result.err
    assert "BROADCASTER_SECRETS__FB_Y00001" in result.err
    assert "route sms/notify needs notify.api_key (set BROADCASTER_NOTIFY__API_KEY)" in result.err


def test_secret_from_the_secrets_directory_satisfies_check(tmp_path: Path) -> None:
    """A file `secrets__<name>` in the secrets directory provides the token."""
    (tmp_path / "practices.yaml").write_text(DIRECTORY.replace(", provider: notify", ", provider: outbox"))
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "secrets__fb_y00001").write_text("EAAG-token-from-a-file")
    result = run_cli(
        tmp_path,
        "check",
        env={
            "BROADCASTER_DIRECTORY": str(tmp_path / "practices.yaml"),
            "BROADCASTER_SECRETS_DIR": str(secrets),
        },
    )
    assert result.code == 0, result.err
    assert "EAAG-token-from-a-file" not in result.out + result.err


def test_bad_setting_names_the_variable_without_echoing_its_value(tmp_path: Path) -> None:
    """A mistyped variable is refused by name; its value (maybe a secret) is not printed."""
    result = run_cli(tmp_path, "list", env={"BROADCASTER_GRAPH__CONCURRENCY": "sixteen-S3CRET"})
    assert result.code == 2
    assert "BROADCASTER_GRAPH__CONCURRENCY: Input should be a valid integer" in result.err
    assert "S3CRET" not in result.err
    assert "Traceback" not in result.err


def test_root_help_lists_each_command_as_its_own_help_says() -> None:
    """`broadcaster --help` is written from a table so it imports no command module; the table
    must say what each command's own help says."""
    import importlib  # noqa: PLC0415

    from broadcaster.cli.main import COMMANDS  # noqa: PLC0415

    for name, entry in COMMANDS.items():
        command = getattr(importlib.import_module(entry.module), entry.attribute)
        assert command.name in (name, entry.attribute)
        assert (command.help or "").split("\n\n")[0] == entry.summary, name


@pytest.mark.parametrize(
    "args",
    [["--help"], ["send", "--help"], ["status", "--help"], ["serve", "--help"], ["users", "add", "--help"]],
)
def test_help_loads_nothing_heavy(args: list[str]) -> None:
    """Start-up is part of the job: `--help` must not load SQLAlchemy, aiohttp or apprise."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    probe = (
        "import sys\nfrom click.testing import CliRunner\nfrom broadcaster.cli.main import cli\n"
        f"result = CliRunner().invoke(cli, {args!r})\nassert result.exit_code == 0, result.output\n"
        "heavy = ('sqlalchemy', 'aiohttp', 'apprise', 'pydantic', 'structlog')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    run = [sys.executable, "-c", probe]
    loaded = subprocess.run(run, capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert loaded.strip() == "[]"
