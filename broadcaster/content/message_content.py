"""What a sender asked to say, from free text or a runbook, with the knobs the content checks use."""

from __future__ import annotations

from dataclasses import dataclass

from broadcaster.content.channel_limits import SMS_MAX_SEGMENTS
from broadcaster.content.content_checks import check_message_text, has_words
from broadcaster.content.render import ChannelTexts
from broadcaster.core.errors import ContentRefused


@dataclass(frozen=True, slots=True)
class MessageContent:
    texts: ChannelTexts  # per channel, practice placeholders still unfilled
    summary: str  # the update's text as kept in the thread's history
    sms_max_segments: int
    confidentiality_override: str | None = None  # a commissioner's reason, kept in the audit trail


def content_from_text(
    text: str, *, sms_max_segments: int, confidentiality_override: str | None = None
) -> MessageContent:
    text = check_message_text(text, what="the message").strip()
    if not has_words(text):
        raise ContentRefused("the message is empty: write what patients and staff need to know")
    return MessageContent(
        texts=ChannelTexts.same_everywhere(text),
        summary=text,
        sms_max_segments=_cap(sms_max_segments),
        confidentiality_override=confidentiality_override,
    )


def content_from_runbook(
    texts: ChannelTexts,
    *,
    sms_max_segments: int,
    confidentiality_override: str | None = None,
) -> MessageContent:
    """A runbook's texts for one status, its fields filled in (`Runbook.texts_for`)."""
    texts = _checked(texts)
    return MessageContent(
        texts=texts,
        summary=texts.plain,
        sms_max_segments=_cap(sms_max_segments),
        confidentiality_override=confidentiality_override,
    )


def _checked(texts: ChannelTexts) -> ChannelTexts:
    """A runbook's texts with its fields filled in: a field value can bring what a file cannot."""
    sms, facebook, email, other = (
        check_message_text(text, what=f"the runbook's {channel} text with its fields filled in")
        for channel, text in texts.templates().items()
    )
    return ChannelTexts(sms=sms, facebook=facebook, email_body=email, plain=other)


def _cap(segments: int) -> int:
    if not 1 <= segments <= SMS_MAX_SEGMENTS:
        raise ContentRefused(
            f"an SMS segment cap must be between 1 and {SMS_MAX_SEGMENTS} "
            f"(GOV.UK Notify refuses longer texts); got {segments}"
        )
    return segments
