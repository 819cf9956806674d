"""Runbooks: the shipped content is safe and fits, broken files are named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcaster.config.shipped_files import shipped_runbooks_path
from broadcaster.content.render import UpdateHeading, render_for_practice
from broadcaster.content.sms_text import SmsEncoding, count_segments
from broadcaster.core.errors import FileProblem, RunbookError
from broadcaster.core.models import ChannelKind, IncidentStatus
from broadcaster.directory.practices import Directory, Practice
from broadcaster.runbooks.check import check_runbooks
from broadcaster.runbooks.templates import CHECKLIST_HEADING, MissingFieldValues, load_runbook, load_runbooks

SHIPPED = (
    "all-clear", "building-closure", "clinical-system-outage", "cyber-attack", "phone-lines-down",
    "planned-maintenance", "power-outage", "severe-weather", "website-down",
)  # fmt: skip
RIVERSIDE = Practice(
    ods="Y00001",
    name="Riverside Surgery",
    placeholders={"alt_phone": "0113 496 0001", "website": "https://riverside.example"},
)
VALID = """\
title: "Phones down: {area}"
severity: major
summary: A runbook for the tests.
fields:
  area: {prompt: Which area is affected?, example: north}
  next_update: {prompt: When is the next update?, example: 2pm}
messages:
  investigating:
    sms: "Phones down in {area}. Call {alt_phone}."
    facebook: "Our phones are down. Next update by {next_update}."
    email: "Phones down in {area}."
    staff_checklist: ["Answer {alt_phone}.", "Tell reception."]
  identified:
    sms: "Cause found. Call {alt_phone}."
    facebook: "We know the cause. Next update by {next_update}."
    email: "Cause found."
    staff_checklist: ["Keep answering {alt_phone}."]
  monitoring:
    sms: "Phones working again."
    facebook: "Phones working again. Next update by {next_update}."
    email: "Phones back."
    staff_checklist: ["Test the phones."]
  resolved:
    sms: "Phones back to normal."
    facebook: "Phones back to normal."
    email: "Closed."
    staff_checklist: ["Take the notice down."]
"""


def write_runbook(folder: Path, text: str, name: str = "phones") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`, as an editor shows it."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def problems_for(
    tmp_path: Path,
    text: str,
    practices: list[Practice] | None = None,
) -> list[FileProblem]:
    write_runbook(tmp_path, text)
    return check_runbooks(tmp_path, practices if practices is not None else [RIVERSIDE])


# The shipped content


def test_every_shipped_runbook_loads() -> None:
    """The nine runbooks the issue asks for are shipped and valid."""
    assert tuple(load_runbooks(shipped_runbooks_path())) == SHIPPED


def test_shipped_runbooks_pass_the_check_for_every_example_practice(
    example_directory: Directory,
) -> None:
    """`broadcaster runbooks check` finds nothing wrong with what we ship."""
    assert check_runbooks(shipped_runbooks_path(), list(example_directory.practices)) == []


def test_every_shipped_text_fits_one_gsm7_segment_as_sent(example_directory: Directory) -> None:
    """Measured after render adds "Update: " and the practice name, for every example practice."""
    too_long = []
    for name, runbook in load_runbooks(shipped_runbooks_path()).items():
        examples = runbook.example_fields()
        for seq, status in enumerate(IncidentStatus):
            heading = UpdateHeading("INC-99999", runbook.title_for(examples), seq, status)
            texts = runbook.texts_for(status, examples)
            for practice in example_directory.practices:
                sms = render_for_practice(heading, texts, practice)[ChannelKind.SMS].body
                count = count_segments(sms)
                if count.segments > 1 or count.encoding is not SmsEncoding.GSM7:
                    too_long.append((name, status.value, practice.ods, count.length))
    assert too_long == []


def test_every_shipped_facebook_text_asks_for_no_personal_details() -> None:
    """Each post and comment reminds patients the page is not for medical details or booking."""
    lacking = [
        (name, status.value)
        for name, runbook in load_runbooks(shipped_runbooks_path()).items()
        for status in IncidentStatus
        if "do not post personal or medical details" not in runbook.messages(status).facebook
        or "not for booking appointments" not in runbook.messages(status).facebook
    ]
    assert lacking == []


def test_every_shipped_first_post_says_111_and_999() -> None:
    """The opening post tells patients where urgent help and emergencies go instead."""
    runbooks = load_runbooks(shipped_runbooks_path())
    first_posts = {name: rb.messages(IncidentStatus.INVESTIGATING).facebook for name, rb in runbooks.items()}
    lacking = [name for name, post in first_posts.items() if "call 111" not in post or "call 999" not in post]
    assert lacking == []


# Using a runbook


def test_texts_for_fills_fields_and_keeps_practice_placeholders(tmp_path: Path) -> None:
    """Fields are filled now; {alt_phone} is left for render to fill per practice."""
    runbook = load_runbook(write_runbook(tmp_path, VALID))
    texts = runbook.texts_for(IncidentStatus.INVESTIGATING, {"area": "Leeds", "next_update": "3pm"})
    assert texts.sms == "Phones down in Leeds. Call {alt_phone}."
    assert texts.facebook == "Our phones are down. Next update by 3pm."


def test_email_body_ends_with_the_staff_checklist(tmp_path: Path) -> None:
    """Staff read the email text, then what to do now as a list."""
    runbook = load_runbook(write_runbook(tmp_path, VALID))
    texts = runbook.texts_for(IncidentStatus.INVESTIGATING, {"area": "Leeds", "next_update": "3pm"})
    assert texts.email_body == (
        f"Phones down in Leeds.\n\n{CHECKLIST_HEADING}\n- Answer {{alt_phone}}.\n- Tell reception."
    )


def test_a_typed_field_value_is_never_read_as_a_placeholder(tmp_path: Path) -> None:
    """A sender typing "{alt_phone}" or a brace gets exactly that text, not a practice's value."""
    runbook = load_runbook(write_runbook(tmp_path, VALID))
    texts = runbook.texts_for(IncidentStatus.INVESTIGATING, {"area": "{alt_phone} {", "next_update": "3pm"})
    heading = UpdateHeading("INC-1", "Phones down", 0, IncidentStatus.INVESTIGATING)
    sms = render_for_practice(heading, texts, RIVERSIDE)[ChannelKind.SMS].body
    assert sms == "Riverside Surgery: Phones down in {alt_phone} {. Call 0113 496 0001."


def test_title_is_filled_from_fields(tmp_path: Path) -> None:
    """The incident title uses the runbook's fields only."""
    runbook = load_runbook(write_runbook(tmp_path, VALID))
    assert runbook.title_for({"area": "north Leeds"}) == "Phones down: north Leeds"


def test_missing_field_value_is_refused_with_its_prompt(tmp_path: Path) -> None:
    """Nothing is rendered without each value a text needs; the refusal says what to ask."""
    runbook = load_runbook(write_runbook(tmp_path, VALID))
    with pytest.raises(MissingFieldValues) as caught:
        runbook.texts_for(IncidentStatus.INVESTIGATING, {"area": "Leeds", "next_update": "  "})
    assert list(caught.value.missing) == ["next_update"]
    assert 'next_update="..."  When is the next update? (for example: 2pm)' in str(caught.value)


def test_a_field_with_a_default_need_not_be_given_but_can_be(tmp_path: Path) -> None:
    """A default fills the blank when the sender gives nothing; a given value wins."""
    text = VALID.replace("example: 2pm}", "example: 2pm, default: the end of today}")
    runbook = load_runbook(write_runbook(tmp_path, text))
    assert (
        "Next update by the end of today."
        in runbook.texts_for(IncidentStatus.INVESTIGATING, {"area": "Leeds"}).facebook
    )
    assert (
        "Next update by 4pm."
        in runbook.texts_for(IncidentStatus.INVESTIGATING, {"area": "Leeds", "next_update": "4pm"}).facebook
    )


def test_a_status_that_does_not_use_a_field_does_not_ask_for_it(tmp_path: Path) -> None:
    """Closing an incident does not ask when the next update is."""
    runbook = load_runbook(write_runbook(tmp_path, VALID))
    texts = runbook.texts_for(IncidentStatus.RESOLVED, {})
    assert texts.sms == "Phones back to normal."


def test_a_field_the_runbook_does_not_have_is_refused(tmp_path: Path) -> None:
    """A misspelt --field is reported, not silently ignored."""
    runbook = load_runbook(write_runbook(tmp_path, VALID))
    with pytest.raises(MissingFieldValues, match="not fields of this runbook: aera"):
        runbook.texts_for(IncidentStatus.RESOLVED, {"aera": "Leeds"})


# Broken runbooks


def test_unknown_placeholder_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    """A misspelt placeholder is reported where it is, with what may be used instead."""
    text = VALID.replace("Cause found. Call {alt_phone}.", "Cause found. Call {alt_phon}.")
    [problem] = problems_for(tmp_path, text)
    assert (problem.path, problem.line) == (tmp_path / "phones.yaml", line_of(text, "{alt_phon}"))
    assert problem.where == "messages.identified.sms"
    assert "unknown placeholder {alt_phon}" in problem.message


def test_missing_status_is_named_at_the_messages_line(tmp_path: Path) -> None:
    """Every status must have its texts."""
    text = VALID[: VALID.index("  resolved:")]
    with pytest.raises(RunbookError) as caught:
        load_runbook(write_runbook(tmp_path, text))
    [problem] = caught.value.problems
    assert problem.line == line_of(text, "messages:")
    assert problem.where == "messages.resolved"
    assert "status resolved is missing" in problem.message


def test_sms_over_one_segment_names_the_limit_and_the_count(tmp_path: Path) -> None:
    """The text is measured as sent, practice name included, and the limit is said."""
    text = VALID.replace("Phones working again.", "Phones working again. " + "x" * 120)
    [problem] = problems_for(tmp_path, text)
    assert problem.line == line_of(text, "Phones working again. xxx")
    assert problem.where == "messages.monitoring.sms"
    assert "Y00001 (Riverside Surgery) it is 169 characters, 2 SMS segments" in problem.message
    assert "the limit is 1 segment (160 GSM-7 characters" in problem.message


def test_runbook_may_allow_more_segments(tmp_path: Path) -> None:
    """sms_segments raises the cap for a runbook that needs a longer text."""
    long_text = VALID.replace("Phones working again.", "Phones working again. " + "x" * 120)
    assert problems_for(tmp_path, "sms_segments: 2\n" + long_text) == []


def test_sms_that_would_need_ucs2_is_a_problem(tmp_path: Path) -> None:
    """A character outside GSM-7 would cut a segment to 70 characters."""
    text = VALID.replace("Phones back to normal.", "Phones back to normal. Diolch yn fawr \u0175")
    [problem] = problems_for(tmp_path, text)
    assert problem.where == "messages.resolved.sms"
    assert "needs UCS-2" in problem.message
    assert "\u0175" in problem.message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    """A text that YAML cannot read points at its line and says how to quote it."""
    text = VALID.replace('email: "Cause found."', "email: Note: cause found.")
    [problem] = problems_for(tmp_path, text)
    assert problem.line == line_of(text, "Note: cause found.")
    assert "not valid YAML" in problem.message
    assert "double quotes" in problem.message


def test_title_may_not_use_a_practice_placeholder(tmp_path: Path) -> None:
    """The title is shared by every practice, so it can only hold the sender's fields."""
    text = VALID.replace('title: "Phones down: {area}"', 'title: "{practice_name}: {area}"')
    with pytest.raises(RunbookError) as caught:
        load_runbook(write_runbook(tmp_path, text))
    [problem] = caught.value.problems
    assert (problem.line, problem.where) == (1, "title")
    assert "{practice_name}" in problem.message


def test_field_named_like_a_practice_placeholder_is_refused(tmp_path: Path) -> None:
    """A field called website would hide each practice's own website."""
    text = VALID.replace("area: {prompt", "website: {prompt").replace("{area}", "{website}")
    with pytest.raises(RunbookError) as caught:
        load_runbook(write_runbook(tmp_path, text))
    [problem] = caught.value.problems
    assert (problem.line, problem.where) == (line_of(text, "website: {prompt"), "fields.website")


def test_unused_field_is_a_problem(tmp_path: Path) -> None:
    """A field no text uses would make the sender type a value for nothing."""
    text = VALID.replace("fields:\n", "fields:\n  spare: {prompt: Why?, example: no reason}\n")
    with pytest.raises(RunbookError, match="no text uses this field"):
        load_runbook(write_runbook(tmp_path, text))


def test_long_email_subject_names_the_limit(tmp_path: Path) -> None:
    """The subject "[INC-99999] title", with the fields' examples, must stay under 150."""
    text = VALID.replace("example: north}", f"example: {'north ' * 30}}}")
    [problem] = [p for p in problems_for(tmp_path, text) if p.where == "title"]
    assert problem.line == 1
    assert "the limit is 150" in problem.message


def test_practice_without_a_value_is_named(tmp_path: Path) -> None:
    """Each text names the practices that lack a value it needs."""
    bare = Practice(ods="Y00002", name="Oak Lane")
    problems = problems_for(tmp_path, VALID, [RIVERSIDE, bare])
    assert problems[0].where == "messages.investigating.sms"
    assert "Y00002 (Oak Lane) lacks alt_phone" in problems[0].message
    assert all("Riverside" not in p.message for p in problems)


def test_load_runbooks_lists_every_problem_of_every_file(tmp_path: Path) -> None:
    """One bad file does not hide another's problems."""
    write_runbook(tmp_path, VALID.replace("severity: major", "severity: dire"), "one")
    write_runbook(tmp_path, VALID.replace("summary: A runbook for the tests.\n", ""), "two")
    with pytest.raises(RunbookError) as caught:
        load_runbooks(tmp_path)
    assert [(p.path.name, p.where) for p in caught.value.problems] == [
        ("one.yaml", "severity"),
        ("two.yaml", "summary"),
    ]
