"""Medians of several runs, ratios against the bare client and apprise, targets, and the machine."""

from __future__ import annotations

import math
import os
import platform
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from bench.figures import RunFigures

OURS, BARE, APPRISE = "ours", "bare aiohttp", "apprise CLI"
# (header, RunFigures field, decimals): the table's columns, in order.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("deliveries", "deliveries", 0),
    ("first request ms", "first_request_ms", 0),
    ("outbox written ms", "written_ms", 0),
    ("p50 s", "p50_s", 2),
    ("p95 s", "p95_s", 2),
    ("p100 s", "p100_s", 2),
    ("deliveries/s", "per_second", 0),
    ("CPU s/1000", "cpu_per_1000", 2),
    ("peak RSS MB", "peak_rss_mb", 0),
    ("max loop stall ms", "max_stall_ms", 0),
    ("update start ms", "update_start_ms", 0),
    ("update done s", "update_done_s", 2),
    ("dup", "duplicates", 0),
    ("missing", "missing", 0),
    ("faults", "faults", 0),
    ("429s", "refused_429", 0),
    ("max attempts", "max_attempts", 0),
    ("<=2 retries p100 s", "slowest_two_retries_s", 2),
    ("fakes CPU", "fakes_cpu", 2),
)


@dataclass(frozen=True, slots=True)
class Summary:
    """The median of each figure over a scenario's runs for one client."""

    scenario: str
    client: str
    runs: int
    medians: dict[str, float | None]
    median_run: RunFigures  # the run whose p100 is the median: the one plotted


def summarise(runs: Iterable[RunFigures]) -> list[Summary]:
    grouped: dict[tuple[str, str], list[RunFigures]] = defaultdict(list)
    for run in runs:
        grouped[(run.scenario, run.client)].append(run)
    out = []
    for (scenario, client), group in grouped.items():
        numeric = [f.name for f in fields(RunFigures) if f.name not in ("scenario", "client", "curve")]
        medians = {name: _median(getattr(r, name) for r in group) for name in numeric}
        by_p100 = sorted(group, key=lambda r: r.p100_s)
        out.append(Summary(scenario, client, len(group), medians, by_p100[(len(by_p100) - 1) // 2]))
    return out


def _median(values: Iterable[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return statistics.median(present) if present else None


def _cell(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:,.{decimals}f}"


def markdown_table(summaries: Sequence[Summary]) -> str:
    header = ["scenario", "client", "runs", *(c[0] for c in COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in summaries:
        cells = [s.scenario, s.client, str(s.runs)]
        cells += [_cell(s.medians[name], decimals) for _h, name, decimals in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_description() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "unknown CPU"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()} "
        f"on {platform.system()} {platform.release()}; load average at the end {load}"
    )


def _cpuinfo() -> list[str]:
    path = Path("/proc/cpuinfo")
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def find(summaries: Sequence[Summary], scenario: str, client: str) -> Summary | None:
    return next((s for s in summaries if s.scenario == scenario and s.client == client), None)


def figure(summaries: Sequence[Summary], scenario: str, client: str, name: str) -> float | None:
    found = find(summaries, scenario, client)
    return None if found is None else found.medians[name]


def ratio_lines(summaries: Sequence[Summary], sizes: Sequence[int]) -> list[str]:
    lines = []
    for size in sizes:
        ours, bare = (
            figure(summaries, str(size), OURS, "p100_s"),
            figure(summaries, str(size), BARE, "p100_s"),
        )
        apprise = figure(summaries, str(size), APPRISE, "p100_s")
        if ours and bare:
            lines.append(f"- {size} practices: ours takes **{ours / bare:.2f}x** the bare client's time")
        if ours and apprise:
            lines.append(f"- {size} practices: ours is **{apprise / ours:.1f}x** faster than the apprise CLI")
    return lines
