"""The drill report as a table for a person and as CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from broadcaster.incidents.queries import DrillReport

CSV_COLUMNS = (
    "practice",
    "practice_name",
    "channel",
    "update",
    "route",
    "recipient",
    "state",
    "attempts",
    "seconds_to_deliver",
)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def summary_line(report: DrillReport) -> str:
    median, slowest = report.median_seconds, report.slowest_seconds
    times = (
        f"; median {median:.2f} s, slowest {slowest:.2f} s"
        if median is not None and slowest is not None
        else "; none delivered yet"
    )
    return f"{report.delivered} delivered of {len(report.lines)}{times}"


def print_drill_report(report: DrillReport, names: dict[str, str], console: Console) -> None:
    record = report.incident.summary
    console.print(f"[bold]{record.ref}[/] {escape(record.title)}  EXERCISE  status: {record.status.value}")
    table = Table("practice", "channel", "update", "route", "recipient", "state", "attempts", "seconds")
    for line in report.lines:
        label = f"{line.practice} {names.get(line.practice, '')}".strip()
        table.add_row(
            escape(label),
            line.channel.value,
            str(line.update_seq),
            line.route,
            escape(line.recipient),
            line.state.value,
            str(line.attempts),
            _seconds(line.seconds) or "-",
        )
    console.print(table)
    console.print(summary_line(report), highlight=False)


def drill_as_csv(report: DrillReport, names: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in report.lines:
        writer.writerow(
            [
                line.practice,
                names.get(line.practice, ""),
                line.channel.value,
                line.update_seq,
                line.route,
                line.recipient,
                line.state.value,
                line.attempts,
                _seconds(line.seconds),
            ]
        )
    return out.getvalue()
