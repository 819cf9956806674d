"""Show exactly what each practice and channel would receive, sending nothing."""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console
from rich.markup import escape

from broadcaster.models import ChannelKind
from broadcaster.render import PlannedDelivery

_NOUN = {
    ChannelKind.FACEBOOK: "Facebook messages",
    ChannelKind.SMS: "texts",
    ChannelKind.EMAIL: "emails",
    ChannelKind.APPRISE: "other channel messages",
}


def print_dry_run(planned: list[PlannedDelivery], console: Console) -> None:
    grouped: dict[tuple[str, ChannelKind], list[PlannedDelivery]] = defaultdict(list)
    for item in planned:
        grouped[(item.endpoint.practice, item.endpoint.channel)].append(item)
    for (practice, channel), items in grouped.items():
        recipients = ", ".join(i.endpoint.recipient for i in items)
        console.print(f"[bold]{practice} {channel.value}[/] -> {escape(recipients)}")
        content = items[0].content
        if content.subject:
            console.print(f"  Subject: {escape(content.subject)}")
        for line in content.body.splitlines() or [""]:
            console.print(f"  | {escape(line)}", highlight=False)
        if content.opening_body:
            console.print(
                "  (if this practice's first message did not arrive, "
                "this update is posted on its own instead)",
                style="dim",
            )
    console.print(dry_run_summary(planned))


def dry_run_summary(planned: list[PlannedDelivery]) -> str:
    practices = {p.endpoint.practice for p in planned}
    by_channel = Counter(p.endpoint.channel for p in planned)
    parts = ", ".join(f"{n} {_NOUN[c]}" for c, n in sorted(by_channel.items()))
    return (
        f"Dry run: would send {len(planned)} messages to {len(practices)} practices "
        f"({parts or 'nothing'}). Nothing was sent."
    )
