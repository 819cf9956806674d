"""The practice x channel grid as cells: one per practice and channel of an update, its state
the worst of its recipients', with the reason for a failure and a retry form; rendered the same
for the page and for the live events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape

from broadcaster.core.models import ChannelKind, DeliveryState
from broadcaster.directory.practices import Directory
from broadcaster.incidents.queries import DeliveryGrid

CHANNEL_NAMES = {
    ChannelKind.FACEBOOK: "Facebook",
    ChannelKind.SMS: "SMS",
    ChannelKind.EMAIL: "Email",
    ChannelKind.APPRISE: "Other",
}
# What a cell shows when its recipients differ: a failure first (it needs a person), then work
# in progress, then a draft's (held for a person, or dropped), then delivered.
_WORST_FIRST = (
    DeliveryState.FAILED,
    DeliveryState.UNKNOWN,
    DeliveryState.RETRYING,
    DeliveryState.SENDING,
    DeliveryState.PENDING,
    DeliveryState.BLOCKED,
    DeliveryState.HELD,
    DeliveryState.DISCARDED,
    DeliveryState.DELIVERED,
)


@dataclass(frozen=True, slots=True)
class Cell:
    practice: str
    practice_name: str
    channel: ChannelKind
    state: DeliveryState
    delivered: int
    total: int
    reasons: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.practice}:{self.channel.value}"

    @property
    def label(self) -> str:
        """What a screen reader says: "Riverside Surgery, SMS: delivered"."""
        counted = f" ({self.delivered} of {self.total})" if self.total > 1 else ""
        return f"{self.practice_name}, {CHANNEL_NAMES[self.channel]}: {self.state.value}{counted}"


def cells_of(
    grid: DeliveryGrid, directory: Directory
) -> tuple[list[tuple[str, str]], list[ChannelKind], dict[str, Cell]]:
    """(practices as (ods, name), channels, cells by key) for the update the grid shows."""
    names = {p.ods: p.name for p in directory.practices}
    grouped: dict[tuple[str, ChannelKind], list[DeliveryState]] = defaultdict(list)
    reasons: dict[tuple[str, ChannelKind], list[str]] = defaultdict(list)
    for d in grid.deliveries:
        if d.update_seq != grid.shown_seq:
            continue
        grouped[(d.practice, d.channel)].append(d.state)
        if d.state is DeliveryState.FAILED and d.last_error:
            reasons[(d.practice, d.channel)].append(d.last_error)
    cells = {}
    for (practice, channel), states in grouped.items():
        worst = next(s for s in _WORST_FIRST if s in states)
        cell = Cell(
            practice,
            names.get(practice, practice),
            channel,
            worst,
            states.count(DeliveryState.DELIVERED),
            len(states),
            tuple(dict.fromkeys(reasons[(practice, channel)])),
        )
        cells[cell.key] = cell
    practices = sorted({(c.practice, c.practice_name) for c in cells.values()})
    channels = [c for c in ChannelKind if any(cell.channel is c for cell in cells.values())]
    return practices, channels, cells


def cell_html(cell: Cell | None, *, csrf: str, ref: str, seq: int, may_retry: bool) -> str:
    """The inside of one grid cell; `csrf` is the hidden field for the retry form."""
    if cell is None:
        return '<span class="none" aria-label="not sent on this channel">-</span>'
    # The count apart from the state, so a narrow column wraps it onto its own line.
    count = f' <small class="count">{cell.delivered}/{cell.total}</small>' if cell.total > 1 else ""
    badge = f'<span class="state {cell.state.value}">{cell.state.value}</span>{count}'
    if cell.state is not DeliveryState.FAILED:
        return badge
    why = "; ".join(cell.reasons) or "no reason was recorded"
    retry = ""
    if may_retry:
        retry = (
            f'<form method="post" action="/incidents/{ref}/retry">{csrf}'
            f'<input type="hidden" name="practice" value="{escape(cell.practice)}">'
            f'<input type="hidden" name="channel" value="{cell.channel.value}">'
            f'<input type="hidden" name="update" value="{seq}">'
            f'<button type="submit" aria-label="Retry {escape(cell.label)}">Retry</button></form>'
        )
    return f'<details><summary>{badge}</summary><p class="reason">{escape(why)}</p>{retry}</details>'


def grid_html(grid: DeliveryGrid, directory: Directory, *, csrf: str, may_retry: bool) -> str:
    practices, channels, cells = cells_of(grid, directory)
    ref, seq = grid.incident.ref, grid.shown_seq
    if not cells:
        return "<p>No deliveries for this update.</p>"
    head = "".join(f'<th scope="col">{CHANNEL_NAMES[c]}</th>' for c in channels)
    rows = []
    for ods, name in practices:
        tds = []
        for channel in channels:
            cell = cells.get(f"{ods}:{channel.value}")
            label = cell.label if cell else f"{name}, {CHANNEL_NAMES[channel]}: not sent"
            tds.append(
                f'<td data-cell="{ods}:{channel.value}" aria-label="{escape(label)}">'
                f"{cell_html(cell, csrf=csrf, ref=ref, seq=seq, may_retry=may_retry)}</td>"
            )
        rows.append(f'<tr><th scope="row">{escape(name)} <small>{ods}</small></th>{"".join(tds)}</tr>')
    caption = f"Update {seq}: who got it, by practice and channel"
    return (
        f'<table class="grid" id="grid" data-ref="{ref}" data-update="{seq}"><caption>{caption}</caption>'
        f'<thead><tr><th scope="col">Practice</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
