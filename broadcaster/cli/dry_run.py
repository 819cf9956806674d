"""Show exactly what each practice and channel would receive, with SMS encoding and cost; send nothing."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from broadcaster.content.preview import MessagePreview, SendPreview
from broadcaster.core.models import ChannelKind

_NOUN = {
    ChannelKind.FACEBOOK: "Facebook message",
    ChannelKind.SMS: "text",
    ChannelKind.EMAIL: "email",
    ChannelKind.APPRISE: "other channel message",
}


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def print_preview(preview: SendPreview, console: Console) -> None:
    for message in preview.messages:
        _print_message(message, console)
    console.print(preview_summary(preview), highlight=False)


def _print_message(message: MessagePreview, console: Console) -> None:
    recipients = ", ".join(message.recipients)
    console.print(f"[bold]{message.practice} {message.channel.value}[/] -> {escape(recipients)}")
    if message.subject:
        console.print(f"  Subject: {escape(message.subject)}", highlight=False)
    for line in message.body.splitlines() or [""]:
        console.print(f"  | {escape(line)}", highlight=False)
    if message.sms is not None:
        sms = message.sms
        plural = "" if sms.segments == 1 else "s"
        console.print(
            f"  {sms.encoding.value}, {sms.length} characters, {sms.segments} segment{plural} "
            f"(up to {sms.per_segment_limit} per segment)",
            style="dim",
            highlight=False,
        )
    if message.opening_body:
        console.print(
            "  (where this practice's first message never arrived, this is posted on its own)",
            style="dim",
        )


def preview_summary(preview: SendPreview) -> str:
    parts = ", ".join(counted(preview.count(c), _NOUN[c]) for c in ChannelKind if preview.count(c))
    lines = [
        f"Dry run: would send {counted(preview.deliveries, 'message')} to "
        f"{counted(preview.practices, 'practice')} ({parts or 'nothing'})."
    ]
    if preview.count(ChannelKind.SMS):
        lines.append(
            f"Texts: {counted(preview.count(ChannelKind.SMS), 'recipient')}, "
            f"{counted(preview.sms_segments, 'segment')}, estimated cost £{preview.sms_cost_pounds:.2f} "
            f"at {preview.price_per_segment_pence}p per segment."
        )
        lines.append(f"Normalised for SMS (GSM-7): {preview.sms_notes}.")
    lines.append("Nothing was sent.")
    return "\n".join(lines)
