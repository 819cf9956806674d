"""Broken directory and runbook files through the real CLI: a clear problem naming the file and
line, exit code 2, never a traceback or a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcaster.config.shipped_files import example_directory_path
from tests.cli_runner import CliResult, run_cli

SHIPPED_RUNBOOK = Path(__file__).parent.parent / "runbooks" / "phone-lines-down.yaml"


def nested(levels: int) -> str:
    """A `practices:` value nested `levels` lists deep: what a pasted or generated file can hold."""
    return "practices: " + "[" * levels + "]" * levels + "\n"


def send_dry_run(tmp_path: Path, directory: Path) -> CliResult:
    env = {"BROADCASTER_DIRECTORY": str(directory)}
    return run_cli(tmp_path, "send", "--title", "T", "--message", "M", "--all", "--dry-run", env=env)


@pytest.mark.parametrize("levels", [500, 50_000])
def test_deeply_nested_directory_is_refused_naming_the_file(tmp_path: Path, levels: int) -> None:
    """500 levels used to end in a RecursionError, 50,000 in a segfault: now a problem at line 1."""
    directory = tmp_path / "practices.yaml"
    directory.write_text(nested(levels), encoding="utf-8")
    result = send_dry_run(tmp_path, directory)
    assert result.code == 2, result.err
    assert f"{directory}:1: nested more than 50 levels deep" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("levels", [500, 50_000])
def test_deeply_nested_runbook_is_refused_naming_the_file(tmp_path: Path, levels: int) -> None:
    """`runbooks check` reports the deep file among the good ones, with its line."""
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "phone-lines-down.yaml").write_text(SHIPPED_RUNBOOK.read_text(encoding="utf-8"))
    deep = folder / "deep.yaml"
    deep.write_text("title: Deep\nsummary: " + "{a: " * levels + "b" + "}" * levels + "\n", encoding="utf-8")
    result = run_cli(tmp_path, "runbooks", "check", env={"BROADCASTER_RUNBOOKS_DIR": str(folder)})
    assert result.code == 2, result.err
    assert f"{deep}:2: nested more than 50 levels deep" in result.err
    assert "Traceback" not in result.err


def test_duplicate_ods_code_is_reported_at_the_second_entry(tmp_path: Path) -> None:
    """The problem names the repeated entry's own line and the line of the first, not "top level"."""
    text = example_directory_path().read_text(encoding="utf-8").replace("ods: X99002", "ods: X99001")
    directory = tmp_path / "practices.yaml"
    directory.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    first, second = (n + 1 for n, line in enumerate(lines) if line.strip() == "- ods: X99001")
    result = send_dry_run(tmp_path, directory)
    assert result.code == 2, result.err
    assert (
        f"{directory}:{second}: practice X99001 (Oak Lane Medical Centre) [entry 2], field ods: "
        f"ODS code X99001 is already listed at entry 1 (line {first})"
    ) in result.err
    assert "top level" not in result.err


def test_duplicate_key_in_a_runbook_says_so_without_a_quoting_tip(tmp_path: Path) -> None:
    """A key given twice is named at its second line; the tip about quoting texts is not added."""
    folder = tmp_path / "books"
    folder.mkdir()
    text = SHIPPED_RUNBOOK.read_text(encoding="utf-8").replace("severity: major\n", "severity: major\n" * 2)
    book = folder / "phone-lines-down.yaml"
    book.write_text(text, encoding="utf-8")
    second = text.splitlines().index("severity: major") + 2
    result = run_cli(tmp_path, "runbooks", "check", env={"BROADCASTER_RUNBOOKS_DIR": str(folder)})
    assert result.code == 2, result.err
    assert f'{book}:{second}: "severity" is given twice in the same block: keep one of them' in result.err
    assert "double quotes" not in result.err
