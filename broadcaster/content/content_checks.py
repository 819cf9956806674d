"""Refuse content that must not go out: broken titles and texts, identifying patient details, and
texts over a channel's limit.

Every check runs before anything is written, on every trigger (CLI, API, runbook), cheapest first:
sizes are checked before the confidentiality scan reads the text. A commissioner may override the
confidentiality check with a reason, which is kept in the audit trail; the other checks cannot be
overridden (channel limits can only be raised within what the provider accepts).
"""

from __future__ import annotations

from collections.abc import Iterable

from broadcaster.content.channel_limits import (
    APPRISE_BODY_MAX_CHARS,
    EMAIL_BODY_MAX_CHARS,
    EMAIL_SUBJECT_MAX_CHARS,
    FACEBOOK_POST_MAX_CHARS,
    MESSAGE_MAX_CHARS,
    SMS_MAX_SEGMENTS,
    TITLE_MAX_CHARS,
)
from broadcaster.content.confidentiality import Finding, as_read, find_identifying_content
from broadcaster.content.render import ChannelTexts, PlannedDelivery
from broadcaster.content.sms_text import NOTIFY_MAX_CHARS, count_segments, normalise_for_sms
from broadcaster.core.channel_contract import RenderedContent
from broadcaster.core.control_characters import first_in_line, first_in_message, with_plain_newlines
from broadcaster.core.errors import ContentRefused
from broadcaster.core.models import ChannelKind

_FINDINGS_LISTED = 10  # a pasted spreadsheet can hold thousands; the first few say what to fix


def check_title(title: str) -> str:
    """The title as it is kept (trimmed), if it is one short line of text; refused otherwise."""
    kept = title.strip()
    if len(kept) > TITLE_MAX_CHARS:
        raise ContentRefused(
            f"the title is {len(kept):,} characters; the limit is {TITLE_MAX_CHARS}: keep it short "
            "and put the detail in the message. Nothing was sent."
        )
    if (found := first_in_line(kept)) is not None:
        raise ContentRefused(
            f"the title contains {found.describe()}: a title is one line of plain text (it is the "
            "subject of every email of the incident). Remove it and send again; nothing was sent."
        )
    if not has_words(kept):
        raise ContentRefused(
            'the title is blank: give a short title such as "Phone lines down" (it is the subject '
            "of every email of the incident). Nothing was sent."
        )
    return kept


def check_message_text(text: str, *, what: str) -> str:
    """`text` with plain newlines, if it is short enough for some channel and has no control
    characters but line breaks; refused otherwise. `what` names it ("the message")."""
    if len(text) > MESSAGE_MAX_CHARS:
        raise ContentRefused(
            f"{what} is {len(text):,} characters; no channel takes more than {MESSAGE_MAX_CHARS:,} "
            "(Facebook's limit). Shorten it; nothing was sent."
        )
    text = with_plain_newlines(text)
    if (found := first_in_message(text)) is not None:
        raise ContentRefused(
            f"{what} contains {found.describe()}: a message may hold line breaks but no other "
            "control characters. Remove it and send again; nothing was sent."
        )
    return text


def has_words(text: str) -> bool:
    """Something a reader would see: not only spaces and invisible characters."""
    # Stops at the first visible character: cheap enough for the API to call on its event loop.
    return any(not char.isspace() and as_read(char) for char in text)


# What each channel's text is called in a refusal, and the most it may hold.
_SIZE_LIMITS: dict[ChannelKind, tuple[str, int, str]] = {
    ChannelKind.FACEBOOK: ("the Facebook post", FACEBOOK_POST_MAX_CHARS, "Facebook's limit"),
    ChannelKind.SMS: ("the text message", NOTIFY_MAX_CHARS, "GOV.UK Notify's limit"),
    ChannelKind.EMAIL: ("the email", EMAIL_BODY_MAX_CHARS, "the limit"),
    ChannelKind.APPRISE: ("the message for other channels", APPRISE_BODY_MAX_CHARS, "the limit"),
}


def check_message_sizes(texts: ChannelTexts, *, channels: frozenset[ChannelKind]) -> None:
    """Refuse a text longer than its channel takes, before anything reads it closely.

    The exact limits (SMS segments, the rendered post and subject) are checked after rendering,
    by `check_channel_limits`; these bound the work of every check before that.
    """
    problems = []
    for channel in (c for c in ChannelKind if c in channels):
        name, limit, limit_name = _SIZE_LIMITS[channel]
        length = _length_sent(texts, channel)
        if length > limit:
            problems.append(f"{name} is {length:,} characters; {limit_name} is {limit:,}")
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ContentRefused(
            f"the message is too long for a channel it goes to. Nothing was sent.\n{lines}\n"
            "Shorten it, or send it without that channel."
        )


def _length_sent(texts: ChannelTexts, channel: ChannelKind) -> int:
    if channel is ChannelKind.SMS:
        # As it will be sent: emoji removed, dashes made plain. Every text is within
        # MESSAGE_MAX_CHARS (check_message_text), which keeps normalising it quick.
        return len(normalise_for_sms(texts.sms).text)
    if channel is ChannelKind.FACEBOOK:
        return len(texts.facebook)
    return len(texts.email_body if channel is ChannelKind.EMAIL else texts.plain)


def check_sms_has_words(texts: ChannelTexts, *, channels: frozenset[ChannelKind]) -> None:
    """Refuse a text that would be empty once made SMS-safe (emoji only): it would say nothing
    but the practice's name."""
    if ChannelKind.SMS in channels and not has_words(normalise_for_sms(texts.sms).text):
        raise ContentRefused(
            "the text message would be empty: emoji and symbols are removed from texts, and this "
            "message has nothing else. Write it in words, or send it without SMS. Nothing was sent."
        )


def check_confidentiality(texts: ChannelTexts, *, title: str, override_reason: str | None) -> list[Finding]:
    """Findings in the title or any channel's text as it will be delivered (and read: see
    `as_read`); refused unless a reason to override is given."""
    # The SMS text as the SMS normaliser will send it: it removes what could hide a number.
    delivered = (title, *texts.templates().values(), normalise_for_sms(texts.sms).text)
    findings: list[Finding] = []
    seen: set[str] = set()
    for text in dict.fromkeys(delivered):  # one scan of a text every channel shares
        for finding in find_identifying_content(text):
            if finding.excerpt not in seen:  # the same sentence often appears on every channel
                seen.add(finding.excerpt)
                findings.append(finding)
    if findings and not (override_reason and override_reason.strip()):
        lines = "\n".join(f"  - {f.explain()}" for f in findings[:_FINDINGS_LISTED])
        if len(findings) > _FINDINGS_LISTED:
            lines += f"\n  - and {len(findings) - _FINDINGS_LISTED:,} more like these"
        raise ContentRefused(
            "this message looks like it contains patient-identifying details, and it goes to "
            f"public pages and phones. Nothing was sent.\n{lines}\n"
            "If you are sure it is safe, send again with --confidentiality-override "
            '"<why it is safe>"; the reason is kept in the audit trail.'
        )
    return findings


def check_channel_limits(planned: Iterable[PlannedDelivery], *, sms_max_segments: int) -> None:
    """Refuse any message over its channel's limit, naming the limit and the practices affected."""
    problems: dict[str, list[str]] = {}
    # A practice's recipients on one channel share their content: each is checked once.
    verdicts: dict[tuple[ChannelKind, RenderedContent], str | None] = {}
    for item in planned:
        key = (item.endpoint.channel, item.content)
        if key not in verdicts:
            verdicts[key] = _over_limit(item, sms_max_segments)
        problem = verdicts[key]
        if problem:
            problems.setdefault(problem, []).append(item.endpoint.practice)
    if problems:
        lines = "\n".join(
            f"  - {problem} (practices: {', '.join(sorted(set(who))[:10])}"
            f"{', ...' if len(set(who)) > 10 else ''})"
            for problem, who in problems.items()
        )
        raise ContentRefused(f"a message is over its channel's limit. Nothing was sent.\n{lines}")


def _over_limit(item: PlannedDelivery, sms_max_segments: int) -> str | None:
    content, channel = item.content, item.endpoint.channel
    if channel is ChannelKind.SMS:
        count = count_segments(content.body)
        cap = min(sms_max_segments, SMS_MAX_SEGMENTS)
        if count.segments > cap:
            return (
                f"the text is {count.segments} SMS segments ({count.length} characters, "
                f"{count.encoding.value}); the limit for this send is {cap} "
                f"(shorten it, or allow more with --sms-segments up to {SMS_MAX_SEGMENTS})"
            )
    if channel is ChannelKind.FACEBOOK:
        longest = max(len(content.body), len(content.opening_body or ""))
        if longest > FACEBOOK_POST_MAX_CHARS:
            return f"the Facebook post is {longest} characters; Facebook's limit is {FACEBOOK_POST_MAX_CHARS}"
    if channel is ChannelKind.EMAIL and content.subject and len(content.subject) > EMAIL_SUBJECT_MAX_CHARS:
        return (
            f"the email subject is {len(content.subject)} characters; the limit is "
            f"{EMAIL_SUBJECT_MAX_CHARS}: shorten the incident title"
        )
    return None
