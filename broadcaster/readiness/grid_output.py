"""The readiness grid as a person reads it (a rich table and the reasons) or as CSV for a sheet."""

from __future__ import annotations

import csv
import io
import time

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from broadcaster.config.log_setup import SCRUBBER
from broadcaster.core.models import ChannelKind
from broadcaster.readiness.checks import CellReadiness, ReadinessGrid

CSV_COLUMNS = ("practice", "name", "channel", "state", "reason")


def state_word(cell: CellReadiness) -> str:
    return {True: "ready", False: "not ready", None: "unchecked"}[cell.ready]


def print_readiness_grid(grid: ReadinessGrid, names: dict[str, str], console: Console) -> None:
    rows: dict[str, dict[ChannelKind, CellReadiness]] = {}
    for cell in grid.cells:
        rows.setdefault(cell.practice, {})[cell.channel] = cell
    channels = [c for c in ChannelKind if any(c in row for row in rows.values())]
    table = Table("practice", *(c.value for c in channels))
    for ods, row in rows.items():
        label = f"{ods} {names.get(ods, '')}".strip()
        table.add_row(escape(label), *(_styled(row.get(c)) for c in channels))
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(grid.checked_at))
    console.print(f"Channel readiness at {at}")
    console.print(table)
    console.print("[bold]Reasons[/]")
    for cell in grid.cells:
        reason = escape(SCRUBBER.scrub(cell.reason))
        where = f"{cell.practice} {cell.channel.value}"
        console.print(f"  {where}: {state_word(cell)}: {reason}", highlight=False)
    counts = {word: sum(1 for c in grid.cells if state_word(c) == word) for word in ("ready", "not ready")}
    unchecked = len(grid.cells) - sum(counts.values())
    console.print(
        f"{counts['ready']} ready, {counts['not ready']} not ready"
        + (f", {unchecked} with nothing outside to check (the outbox)" if unchecked else "")
        + "."
    )


def _styled(cell: CellReadiness | None) -> str:
    if cell is None:
        return "-"
    style = {True: "green", False: "red", None: "dim"}[cell.ready]
    return f"[{style}]{state_word(cell)}[/]"


def readiness_csv(grid: ReadinessGrid, names: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for cell in grid.cells:
        name = names.get(cell.practice, "")
        writer.writerow(
            [cell.practice, name, cell.channel.value, state_word(cell), SCRUBBER.scrub(cell.reason)]
        )
    return out.getvalue()
