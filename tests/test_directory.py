"""The practice directory: what a valid file gives, and what a bad one says."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcaster.config.shipped_files import example_directory_path
from broadcaster.core.errors import DirectoryError
from broadcaster.core.models import ChannelKind
from broadcaster.directory.practices import load_directory
from channels.apprise.spec import APPRISE_APPRISE
from channels.facebook.spec import FACEBOOK_GRAPH

GOOD_PRACTICE = """
  - ods: y00001
    name: Riverside Surgery
    groups: [north-pcn]
    placeholders: {alt_phone: "0113 496 0001"}
    facebook: {page_id: "100000000000001", token: FB_Y00001}
    sms: {recipients: ["07700 900001", "+44 7700 900002"]}
    email: {recipients: [Manager@Riverside.example]}
    apprise: [teams_north]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "practices.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    return [str(p) for p in caught.value.problems]


def test_shipped_example_directory_loads_and_works_offline() -> None:
    """The example every newcomer starts from is valid and sends only to the outbox folder."""
    directory = load_directory(example_directory_path())
    routes = {e.route for p in directory.practices for e in directory.endpoints(p)}
    assert len(directory.practices) >= 5
    assert routes
    assert all(r.endswith("/outbox") for r in routes)


def test_valid_practice_is_normalised(tmp_path: Path) -> None:
    """ODS codes are upper-cased, numbers become E.164, secret names lower-case."""
    directory = load_directory(write(tmp_path, "practices:" + GOOD_PRACTICE))
    practice = directory.practices[0]
    endpoints = directory.endpoints(practice)
    assert practice.ods == "Y00001"
    assert [e.recipient for e in endpoints if e.channel is ChannelKind.SMS] == [
        "+447700900001",
        "+447700900002",
    ]
    facebook = next(e for e in endpoints if e.channel is ChannelKind.FACEBOOK)
    assert (facebook.route, facebook.credential_ref) == (FACEBOOK_GRAPH, "fb_y00001")
    assert [e.route for e in endpoints if e.channel is ChannelKind.APPRISE] == [APPRISE_APPRISE]


def test_bad_phone_number_names_file_line_practice_and_field(tmp_path: Path) -> None:
    """A landline where a mobile belongs is refused with everything needed to fix it."""
    text = "practices:" + GOOD_PRACTICE.replace("07700 900001", "0113 496 0001")
    [problem] = problems_of(write(tmp_path, text))
    assert problem.startswith(f"{tmp_path / 'practices.yaml'}:7: ")
    assert "practice y00001 (Riverside Surgery)" in problem
    assert "field sms.recipients[0]" in problem
    assert "'0113 496 0001' is a UK number but not a mobile" in problem


def test_pasted_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    """A real-looking page token in the directory is refused; the message does not repeat it."""
    token = "EAAGm0PX4ZCpsBAKZBxyzREALLOOKINGtoken1234567890"
    text = "practices:" + GOOD_PRACTICE.replace("FB_Y00001", token)
    [problem] = problems_of(write(tmp_path, text))
    assert "field facebook.token" in problem
    assert "NAME of a secret" in problem
    assert token not in problem


def test_every_problem_is_listed_in_file_order(tmp_path: Path) -> None:
    """One pass reports all the problems, not just the first."""
    text = """practices:
  - ods: Y00001
    name: One
    email: {recipients: [not-an-address]}
    colour: blue
  - ods: 12345
    name: Two
"""
    problems = problems_of(write(tmp_path, text))
    assert len(problems) == 3
    expected = [(":4: ", "email.recipients[0]"), (":5: ", "unknown field"), (":6: ", "field ods")]
    for problem, (line, words) in zip(problems, expected, strict=True):
        assert line in problem
        assert words in problem


def test_duplicate_ods_codes_are_refused(tmp_path: Path) -> None:
    """Two entries for one practice would double every message: refused."""
    text = "practices:" + GOOD_PRACTICE + GOOD_PRACTICE.replace("Riverside Surgery", "Copy")
    [problem] = problems_of(write(tmp_path, text))
    assert ":11: practice y00001 (Copy) [entry 2], field ods: " in problem
    assert "ODS code Y00001 is already listed at entry 1 (line 2)" in problem


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    """Broken YAML is reported with its line, not as a traceback."""
    [problem] = problems_of(write(tmp_path, "practices:\n  - ods: [Y00001\n    name: x\n"))
    assert "not valid YAML" in problem
    assert ":3: " in problem or ":4: " in problem


def test_missing_file_says_which_setting_to_check(tmp_path: Path) -> None:
    """A wrong path is a clear refusal."""
    [problem] = problems_of(tmp_path / "nope.yaml")
    assert "nope.yaml: file not found" in problem
