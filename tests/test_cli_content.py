"""Sending through the CLI: previews, runbooks, and the refusals that stop a mistake."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli_runner import run_cli

# A valid NHS number (check digit 9) and how a hurried message might include it.
NHS_NUMBER_MESSAGE = "Mrs Jones, NHS number 943 476 5919, please call the surgery."


def nothing_written(workdir: Path) -> bool:
    """No message file, and no incident or delivery in the database (if one was even created)."""
    if (workdir / "outbox").exists():
        return False
    if not (workdir / "broadcaster.db").exists():
        return True
    with sqlite3.connect(workdir / "broadcaster.db") as conn:
        counts = [
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608  # fixed names
            for t in ("incidents", "deliveries")
        ]
    return counts == [0, 0]


def test_runbook_dry_run_shows_every_channel_with_sms_encoding_and_cost(tmp_path: Path) -> None:
    """The preview names each practice and channel, the SMS encoding, segments and the cost."""
    result = run_cli(
        tmp_path, "send", "--runbook", "phone-lines-down", "--field", "next_update=2pm", "--all", "--dry-run"
    )
    assert result.code == 0, result.err
    assert "X99001 sms -> +447700900001, +447700900002" in result.out
    assert "| Riverside Surgery: Our phone lines are down. Please call 0113 496 0001 instead." in result.out
    assert "GSM-7, " in result.out
    assert " 1 segment (up to 160 per segment)" in result.out
    assert "Texts: 7 recipients, 7 segments, estimated cost £0.16 at 2.27p per segment." in result.out
    assert "Subject: [INC-NEW] Phone lines down" in result.out
    assert "What to do now:" in result.out
    assert result.out.rstrip().endswith("Nothing was sent.")
    assert nothing_written(tmp_path)


def test_preview_says_what_sms_normalisation_changed(tmp_path: Path) -> None:
    """Curly quotes and dashes are made GSM-7 safe, and the sender is told so."""
    result = run_cli(
        tmp_path,
        "send",
        "--title",
        "Closed",
        "--ods",
        "X99001",
        "--dry-run",
        "--message",
        "We\u2019re closed today \u2013 call {alt_phone}.",
    )
    assert result.code == 0, result.err
    assert "| Riverside Surgery: We're closed today - call 0113 496 0001." in result.out
    assert "Normalised for SMS (GSM-7): 1 curly quote made straight, 1 dash made '-'" in result.out


def test_nhs_number_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    """A valid NHS number stops the send; the refusal masks it and says how to override."""
    result = run_cli(
        tmp_path, "send", "--title", "Call back", "--ods", "X99001", "--message", NHS_NUMBER_MESSAGE
    )
    assert result.code == 2
    assert "NHS number" in result.err
    assert "943 476 5919" not in result.err
    assert "--confidentiality-override" in result.err
    assert nothing_written(tmp_path)


def test_confidentiality_override_sends_and_records_the_reason(tmp_path: Path) -> None:
    """With a reason, the commissioner may send; the reason and the masked finding are audited."""
    result = run_cli(
        tmp_path,
        "--as",
        "comms.officer",
        "send",
        "--title",
        "Call back",
        "--ods",
        "X99001",
        "--message",
        NHS_NUMBER_MESSAGE,
        "--confidentiality-override",
        "test patient in a drill",
    )
    assert result.code == 0, result.err
    with sqlite3.connect(tmp_path / "broadcaster.db") as conn:
        actor, detail = conn.execute("SELECT actor, detail FROM audit_events").fetchone()
    recorded = json.loads(detail)
    assert actor == "comms.officer"
    assert recorded["confidentiality_override"] == "test patient in a drill"
    assert [f["kind"] for f in recorded["overridden_findings"]] == ["NHS_NUMBER"]
    assert "5919" not in detail


def test_text_over_the_segment_cap_is_refused_naming_the_limit(tmp_path: Path) -> None:
    """A free-text message longer than two segments is refused with the cap and how to raise it."""
    result = run_cli(tmp_path, "send", "--title", "Long", "--ods", "X99001", "--message", "word " * 70)
    assert result.code == 2
    assert "SMS segments" in result.err
    assert "the limit for this send is 2" in result.err
    assert "--sms-segments" in result.err
    assert nothing_written(tmp_path)


def test_overlong_title_is_refused_for_the_email_subject(tmp_path: Path) -> None:
    """An incident title too long for an email subject is refused with the limit named."""
    result = run_cli(
        tmp_path, "send", "--title", "Outage " * 25, "--ods", "X99001", "--message", "Phones down."
    )
    assert result.code == 2
    assert "the email subject is" in result.err
    assert "the limit is 150" in result.err


def test_missing_runbook_field_lists_what_to_fill(tmp_path: Path) -> None:
    """Using a runbook without its blanks filled names each blank with its prompt."""
    result = run_cli(tmp_path, "send", "--runbook", "cyber-attack", "--all")
    assert result.code == 2
    assert '--field systems="..."' in result.err
    assert "next_update" not in result.err  # it has a default: "the end of today"
    assert nothing_written(tmp_path)


def test_missing_placeholder_lists_the_practices_that_lack_it(tmp_path: Path) -> None:
    """A placeholder no practice has is refused, naming every practice and the value."""
    result = run_cli(
        tmp_path, "send", "--title", "T", "--group", "south-pcn", "--message", "Visit {car_park}."
    )
    assert result.code == 2
    for line in (
        "X99004 (Canal Street Health Centre): car_park",
        "X99005 (Meadowbank Surgery): car_park",
        "X99006 (Station Road Practice): car_park",
    ):
        assert line in result.err


def test_update_without_text_uses_the_runbook_and_keeps_its_fields(tmp_path: Path) -> None:
    """An incident opened from a runbook gets the runbook's wording for each later status."""
    opened = run_cli(
        tmp_path, "send", "--runbook", "phone-lines-down", "--field", "next_update=2pm", "--ods", "X99002"
    )
    assert opened.code == 0, opened.err
    update = run_cli(tmp_path, "update", "INC-1", "--status", "identified")
    assert update.code == 0, update.err
    comment = (tmp_path / "outbox/INC-1/X99002/01-facebook-100000000990002.txt").read_text()
    assert "We know what is causing the problem with our phone lines" in comment
    assert "by 2pm" in comment


def test_shipped_runbooks_pass_the_check(tmp_path: Path) -> None:
    """`broadcaster runbooks check`, as CI runs it, passes for every shipped runbook."""
    result = run_cli(tmp_path, "runbooks", "check")
    assert result.code == 0, result.err
    assert "are valid for 6 practices" in result.out


def test_runbooks_check_names_file_and_line_of_a_problem(tmp_path: Path) -> None:
    """A broken runbook fails the check with its file and line."""
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "broken.yaml").write_text(
        "title: Broken\nseverity: major\nsummary: x\nmessages:\n  investigating: {sms: 'hi {nope}'}\n",
        encoding="utf-8",
    )
    result = run_cli(tmp_path, "runbooks", "check", env={"BROADCASTER_RUNBOOKS_DIR": str(folder)})
    assert result.code == 2
    assert f"{folder / 'broken.yaml'}:" in result.err
