"""Refuse content that must not go out: identifying patient details, and texts over a channel's limit.

Both checks run before anything is written, on every trigger (CLI, API, runbook). A commissioner
may override the confidentiality check with a reason, which is kept in the audit trail; channel
limits cannot be overridden, only raised within what the provider accepts.
"""

from __future__ import annotations

from collections.abc import Iterable

from broadcaster.channel_contract import RenderedContent
from broadcaster.channel_limits import EMAIL_SUBJECT_MAX_CHARS, FACEBOOK_POST_MAX_CHARS, SMS_MAX_SEGMENTS
from broadcaster.confidentiality import Finding, find_identifying_content
from broadcaster.errors import ContentRefused
from broadcaster.models import ChannelKind
from broadcaster.render import ChannelTexts, PlannedDelivery
from broadcaster.sms_text import count_segments


def check_confidentiality(texts: ChannelTexts, *, title: str, override_reason: str | None) -> list[Finding]:
    """Findings in the title or any channel's text; refused unless a reason to override is given."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for text in (title, *texts.templates().values()):
        for finding in find_identifying_content(text):
            if finding.excerpt not in seen:  # the same sentence often appears on every channel
                seen.add(finding.excerpt)
                findings.append(finding)
    if findings and not (override_reason and override_reason.strip()):
        lines = "\n".join(f"  - {f.explain()}" for f in findings)
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
