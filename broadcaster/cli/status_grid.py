"""The practice x channel grid for `broadcaster status`: what landed where, and why not."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from broadcaster.core.models import ChannelKind, DeliveryState
from broadcaster.incidents.queries import DeliveryGrid
from broadcaster.store.records import DeliveryRecord

_STYLE = {
    DeliveryState.DELIVERED: "green",
    DeliveryState.FAILED: "red",
    DeliveryState.RETRYING: "yellow",
    DeliveryState.UNKNOWN: "magenta",
}
# Grid words: a person reads "retrying" and "unknown"; queued states read as "pending".
_WORD = {
    DeliveryState.BLOCKED: "pending",
    DeliveryState.PENDING: "pending",
    DeliveryState.SENDING: "sending",
    DeliveryState.HELD: "draft",
}


def _cell(records: list[DeliveryRecord]) -> str:
    if not records:
        return "-"
    states = [r.state for r in records]
    worst = max(states, key=_severity)
    word = _WORD.get(worst, worst.value)
    text = (
        word
        if len(set(states)) == 1
        else f"{word} ({sum(1 for s in states if s is DeliveryState.DELIVERED)}/{len(states)} delivered)"
    )
    style = _STYLE.get(worst)
    return f"[{style}]{text}[/]" if style else text


def _severity(state: DeliveryState) -> int:
    order = [
        DeliveryState.DISCARDED,
        DeliveryState.DELIVERED,
        DeliveryState.HELD,
        DeliveryState.PENDING,
        DeliveryState.BLOCKED,
        DeliveryState.SENDING,
        DeliveryState.RETRYING,
        DeliveryState.UNKNOWN,
        DeliveryState.FAILED,
    ]
    return order.index(state)


def print_status_grid(grid: DeliveryGrid, names: dict[str, str], console: Console) -> None:
    record, seq, records = grid.incident.summary, grid.shown_seq, grid.deliveries
    update = grid.incident.updates[seq].record
    console.print(
        f"[bold]{record.ref}[/] {escape(record.title)}  status: {record.status.value}"
        f"  severity: {record.severity.value}"
        + ("  [bold]EXERCISE[/] (a drill: test endpoints and the outbox only)" if record.exercise else "")
    )
    console.print(
        f"Showing update {seq} ({update.status.value}) of {len(grid.incident.updates)}; "
        "--update N shows another."
    )
    print_draft(grid, console)
    cells: dict[str, dict[ChannelKind, list[DeliveryRecord]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        cells[r.practice][r.channel].append(r)
    channels = [c for c in ChannelKind if any(c in row for row in cells.values())]
    table = Table("practice", *(c.value for c in channels))
    for practice, row in sorted(cells.items()):
        label = f"{practice} {names.get(practice, '')}".strip()
        table.add_row(escape(label), *(_cell(row.get(c, [])) for c in channels))
    console.print(table)
    problems = [r for r in records if r.state is not DeliveryState.DELIVERED and r.last_error]
    if problems:
        console.print("[bold]Reasons[/]")
    for r in problems:
        console.print(
            f"  {r.practice} {r.channel.value} {escape(r.recipient)}: "
            f"{r.state.value} after {r.attempts} attempt(s): {escape(r.last_error or '')}",
            highlight=False,
        )


def print_draft(grid: DeliveryGrid, console: Console) -> None:
    """A monitor's draft waiting for a person says so, and how to decide it; one decided, by whom."""
    incident = grid.incident
    waiting = incident.waiting_draft
    ref = incident.ref
    if waiting is not None:
        what = "its first message" if waiting.record.seq == 0 else f"update {waiting.record.seq}"
        console.print(
            f"[bold yellow]DRAFT[/] {what} ({waiting.record.status.value}) was raised by "
            f"{escape(waiting.record.author)} and is not sent: `broadcaster confirm {ref}` sends it, "
            f"`broadcaster discard {ref}` drops it.",
            highlight=False,
        )
        console.print(f"  {escape(waiting.record.message)}", highlight=False)
    for u in incident.updates:
        r = u.record
        if r.draft is not None and r.draft.value != "waiting":
            at = time.strftime("%H:%M:%S", time.localtime(r.decided_at or 0))
            console.print(
                f"Update {r.seq} was a draft, {r.draft.value} by {escape(r.decided_by or '')} at {at}."
            )


def print_attention(grid: DeliveryGrid, console: Console) -> None:
    """Endpoints a person must fix (expired page token, removed permission) for these practices."""
    if grid.attention:
        console.print("[bold red]Needs attention[/] (fix these, then send again)")
    for practice, route, recipient, reason in grid.attention:
        console.print(f"  {practice} {route} {escape(recipient)}: {escape(reason)}", highlight=False)


def print_public_copy(grid: DeliveryGrid, console: Console, *, bucket_configured: bool) -> None:
    """Whether the public copy outside (the S3 bucket) carries this incident's latest update."""
    copy, latest = grid.public_copy, grid.incident.next_seq - 1
    if copy is None:
        if bucket_configured:
            console.print("Public copy: [yellow]pending[/] (published by `broadcaster serve`)")
        return
    at = time.strftime("%H:%M:%S", time.localtime(copy.at))
    where = escape(copy.target)
    if copy.ok:
        behind = "" if copy.update_seq == latest else f"; update {latest} is [yellow]pending[/]"
        console.print(f"Public copy {where}: [green]published[/] update {copy.update_seq} at {at}{behind}")
    else:
        console.print(
            f"Public copy {where}: [red]failed[/] for update {copy.update_seq} at {at} after "
            f"{copy.attempts} attempt(s): {escape(copy.reason or '')}; `broadcaster serve` tries again",
            highlight=False,
        )


def status_as_json(grid: DeliveryGrid) -> str:
    record, records = grid.incident.summary, grid.deliveries
    out: dict[str, Any] = {
        "incident": record.ref,
        "title": record.title,
        "status": record.status.value,
        "draft": record.draft,  # opening | update (a monitor's draft waits) | discarded | null
        "waiting_draft": record.waiting_draft_seq,
        "deliveries": [
            {
                "update": r.update_seq,
                "practice": r.practice,
                "channel": r.channel.value,
                "recipient": r.recipient,
                "state": r.state.value,
                "attempts": r.attempts,
                "provider_id": r.provider_id,
                "reason": r.last_error,
            }
            for r in records
        ],
    }
    if (copy := grid.public_copy) is not None:
        out["public_copy"] = {
            "state": "published" if copy.ok else "failed",
            "update": copy.update_seq,
            "target": copy.target,
            "at": copy.at,
            "attempts": copy.attempts,
            "reason": copy.reason,
        }
    return json.dumps(out, indent=2)
