"""`broadcaster runbooks check`: every runbook loads, knows its placeholders and fits each channel.

Texts are measured as they would be sent: filled with each field's example and each practice's
values, then framed by broadcaster.content.render ("Update: ", the practice name, the reference marker).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from broadcaster.content.channel_limits import EMAIL_SUBJECT_MAX_CHARS, FACEBOOK_POST_MAX_CHARS
from broadcaster.content.placeholders import placeholders_in
from broadcaster.content.render import UpdateHeading, render_for_practice
from broadcaster.content.sms_text import GSM7_MULTI, GSM7_SINGLE, SmsEncoding, count_segments, encoding_of
from broadcaster.core.errors import FileProblem
from broadcaster.core.models import ChannelKind, IncidentStatus
from broadcaster.directory.practices import BUILT_IN_PLACEHOLDERS, Practice
from broadcaster.runbooks.templates import (
    STANDARD_PRACTICE_PLACEHOLDERS,
    Loc,
    Runbook,
    braced,
    read_runbooks,
)

CHECK_REF = "INC-99999"  # as long as a reference is likely to get


def check_runbooks(
    folder: Path, practices: list[Practice], *, extra_placeholders: Iterable[str] = ()
) -> list[FileProblem]:
    """Every problem of every runbook in `folder`, in file and line order; [] when all is well.

    Practice placeholders are known if standard, in `extra_placeholders`, or set by a practice.
    """
    runbooks, problems = read_runbooks(folder)
    known = (
        set(STANDARD_PRACTICE_PLACEHOLDERS)
        | set(extra_placeholders)
        | {name for p in practices for name in p.placeholders}
    )
    for runbook in runbooks.values():
        problems += _placeholder_problems(runbook, known)
        problems += _subject_problems(runbook)
        for seq, status in enumerate(IncidentStatus):
            problems += _rendered_problems(runbook, status, seq, practices, known)
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0))


def _placeholder_problems(runbook: Runbook, practice_names: set[str]) -> list[FileProblem]:
    problems = [
        runbook.problem(
            ("fields", name), f"{name} is also a practice placeholder; give the field another name"
        )
        for name in runbook.spec.fields
        if name in practice_names
    ]
    known = practice_names | set(BUILT_IN_PLACEHOLDERS) | set(runbook.spec.fields)
    for status in IncidentStatus:
        for loc, template in runbook.templates(status):
            unknown = [name for name in placeholders_in(template) if name not in known]
            if unknown:
                problems.append(runbook.problem(loc, _unknown_message(runbook, unknown)))
    return problems


def _unknown_message(runbook: Runbook, unknown: list[str]) -> str:
    names = braced(unknown)
    fields = ", ".join(runbook.spec.fields) or "none"
    return (
        f"unknown placeholder {names}: use one of this runbook's fields ({fields}), "
        f"{', '.join(BUILT_IN_PLACEHOLDERS)} or a practice placeholder "
        f"({', '.join(STANDARD_PRACTICE_PLACEHOLDERS)}, or one the directory sets)"
    )


def _subject_problems(runbook: Runbook) -> list[FileProblem]:
    title = runbook.title_for(runbook.example_fields())
    subject = UpdateHeading(CHECK_REF, title, 0, IncidentStatus.INVESTIGATING).subject
    if len(subject) <= EMAIL_SUBJECT_MAX_CHARS:
        return []
    message = (
        f'the email subject "{subject}" is {len(subject)} characters with the fields\' '
        f"examples; the limit is {EMAIL_SUBJECT_MAX_CHARS}: shorten the title"
    )
    return [runbook.problem(("title",), message)]


def _rendered_problems(
    runbook: Runbook, status: IncidentStatus, seq: int, practices: list[Practice], known: set[str]
) -> list[FileProblem]:
    problems, unrenderable = _practices_lacking_values(runbook, status, practices, known)
    heading = UpdateHeading(CHECK_REF, runbook.title_for(runbook.example_fields()), seq, status)
    texts = runbook.texts_for(status, runbook.example_fields())
    at = ("messages", status.value)
    sms: list[tuple[Practice, str]] = []
    for practice in practices:
        if practice.ods in unrenderable:
            continue  # the missing value is reported already
        rendered = render_for_practice(heading, texts, practice)
        sms.append((practice, rendered[ChannelKind.SMS].body))
        facebook = rendered[ChannelKind.FACEBOOK]
        longest = max(len(facebook.body), len(facebook.opening_body or ""))
        if longest > FACEBOOK_POST_MAX_CHARS:
            message = (
                f"as posted for {_who(practice)} it is {longest} characters; "
                f"Facebook's limit is {FACEBOOK_POST_MAX_CHARS}"
            )
            problems.append(runbook.problem((*at, "facebook"), message))
    if sms:
        problems += _sms_problems(runbook, (*at, "sms"), sms)
    return problems


def _practices_lacking_values(
    runbook: Runbook, status: IncidentStatus, practices: list[Practice], known: set[str]
) -> tuple[list[FileProblem], set[str]]:
    """A problem per text some practices have no value for, and the ODS codes of all those
    that cannot be rendered (an unknown placeholder is reported once, as unknown)."""
    problems, lacking = [], set()
    for loc, template in runbook.templates(status):
        needed = [n for n in placeholders_in(template) if n not in runbook.spec.fields]
        gaps = [
            (practice, missing)
            for practice in practices
            if (missing := [n for n in needed if not practice.placeholder_values().get(n)])
        ]
        lacking |= {practice.ods for practice, _ in gaps}
        gaps = [(p, names) for p, missing in gaps if (names := [n for n in missing if n in known])]
        if gaps:
            who = "; ".join(f"{_who(p)} lacks {', '.join(missing)}" for p, missing in gaps)
            message = (
                "some practices have no value for a placeholder; add it to their "
                f"placeholders in the directory: {who}"
            )
            problems.append(runbook.problem(loc, message))
    return problems, lacking


def _sms_problems(runbook: Runbook, loc: Loc, sent: list[tuple[Practice, str]]) -> list[FileProblem]:
    """The text as sent must stay GSM-7 and fit the runbook's segment cap for every practice."""
    problems = []
    for practice, body in sent:
        awkward = sorted({c for c in body if encoding_of(c) is SmsEncoding.UCS2})
        if awkward:
            message = (
                f"as sent to {_who(practice)} the text needs UCS-2 (70 characters a segment, "
                f"not 160) because of {' '.join(awkward)}: use plain letters"
            )
            problems.append(runbook.problem(loc, message))
            break
    practice, body = max(sent, key=lambda item: count_segments(item[1]).length)
    count, cap = count_segments(body), runbook.spec.sms_segments
    if count.segments > cap:
        limit = GSM7_SINGLE if cap == 1 else cap * GSM7_MULTI
        segments = "1 segment" if cap == 1 else f"{cap} segments"
        message = (
            f"too long: as sent to {_who(practice)} it is {count.length} characters, "
            f"{count.segments} SMS segments; the limit is {segments} ({limit} GSM-7 characters, "
            "prefix and practice name included): shorten it or raise sms_segments"
        )
        problems.append(runbook.problem(loc, message))
    return problems


def _who(practice: Practice) -> str:
    return f"{practice.ods} ({practice.name})"
