"""Malformed incident references and unreadable settings: a clear refusal (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import run_cli

# Each takes settings first; `serve` refuses before it listens, so none of these sends anything.
COMMANDS_THAT_LOAD_SETTINGS = [
    ("check",),
    ("list",),
    ("status", "INC-1"),
    ("send", "--title", "Phones down", "--message", "Call 111", "--all", "--wait", "0"),
    ("update", "INC-1", "Still down", "--status", "monitoring", "--wait", "0"),
    ("resolve", "INC-1", "Fixed", "--wait", "0"),
    ("reopen", "INC-1", "Down again", "--wait", "0"),
    ("runbooks",),
    ("runbooks", "check"),
    ("serve", "--port", "1"),
]


@pytest.mark.parametrize("ref", ["INC-²", "INC-①", "INC-99999999999999999999"])
@pytest.mark.parametrize(
    "command",
    [("status",), ("update", "--status", "monitoring", "--wait", "0"), ("resolve", "--wait", "0")],
)
def test_malformed_incident_ref_is_refused_saying_what_a_ref_looks_like(
    tmp_path: Path, ref: str, command: tuple[str, ...]
) -> None:
    """Superscript or circled digits and numbers past SQLite's range: exit 2 naming the ref."""
    result = run_cli(tmp_path, command[0], ref, *command[1:])
    assert result.code == 2, result.err
    assert f"{ref!r} is not an incident reference: references look like INC-42" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("command", COMMANDS_THAT_LOAD_SETTINGS, ids=" ".join)
def test_malformed_secrets_variable_is_named_without_its_value(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """BROADCASTER_SECRETS that is not JSON: exit 2 naming the variable, never echoing it."""
    result = run_cli(tmp_path, *command, env={"BROADCASTER_SECRETS": '{"fb_y00001": "EAAG-S3CRET"'})
    assert result.code == 2, result.err
    named = "BROADCASTER_SECRETS (or a BROADCASTER_SECRETS__* variable) in the environment is not valid JSON"
    assert named in result.err
    assert "S3CRET" not in result.out + result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("command", COMMANDS_THAT_LOAD_SETTINGS, ids=" ".join)
def test_binary_file_in_the_secrets_directory_is_named_without_its_content(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A secret file that is not UTF-8: exit 2 naming the file and its directory variable."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "secrets__fb_y00001").write_bytes(b"\xff\xfeEAAG-S3CRET\x00")
    result = run_cli(tmp_path, *command, env={"BROADCASTER_SECRETS_DIR": str(secrets)})
    assert result.code == 2, result.err
    assert "secret file 'secrets__fb_y00001' in the secrets directory" in result.err
    assert "(BROADCASTER_SECRETS_DIR) is not UTF-8 text" in result.err
    assert "S3CRET" not in result.out + result.err
    assert "Traceback" not in result.err
