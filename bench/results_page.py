"""Write RESULTS.md (figures, ratios, targets, machine) and the plot; keep every run's figures as JSON."""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.config import LARGE, BenchConfig
from bench.figures import RunFigures
from bench.report import Summary, machine_description, markdown_table, ratio_lines, summarise
from bench.targets import check_targets, verdict_lines


def save_runs(runs: list[RunFigures], path: Path) -> None:
    path.write_text(json.dumps([asdict(r) for r in runs]), encoding="utf-8")


def load_runs(path: Path) -> list[RunFigures]:
    return [
        RunFigures(**{**r, "curve": tuple(r["curve"])}) for r in json.loads(path.read_text(encoding="utf-8"))
    ]


def write_results(config: BenchConfig, command: str, runs: list[RunFigures]) -> str:
    summaries = sorted(summarise(runs), key=lambda s: (_order(s.scenario), s.client))
    rate_limit = next((s.scenario for s in summaries if "rate-limited" in s.scenario), "")
    verdicts = check_targets(summaries, config.sizes, rate_limit)
    plot = _draw(summaries, [str(s) for s in config.sizes if s >= 1000] or [str(config.sizes[0])], config)
    c = config.concurrency
    text = "\n".join(
        [
            "# Fan-out benchmark: latest results",
            "",
            f"`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"runs per scenario: {config.runs} ({config.large_runs} at {LARGE} practices); medians.",
            "",
            f"- Machine: {machine_description()}",
            f"- Fakes: {config.latency * 1000:.0f} ms + 0-{config.jitter * 1000:.0f} ms jitter per request, "
            "each fake in its own process",
            f"- In flight, ours and the bare client alike: Graph {c.graph}, Notify {c.notify}, "
            f"SMTP {c.smtp} sessions",
            "- Faults: 10% transient, 2% throttled (Graph hint 1 s), at every fake",
            "",
            markdown_table(summaries),
            "",
            "## Ratios",
            "",
            *ratio_lines(summaries, config.sizes),
            "",
            "## Targets",
            "",
            "| target | measured | |",
            "|---|---|---|",
            *verdict_lines(verdicts),
            "",
            plot,
            "",
        ]
    )
    config.results.parent.mkdir(parents=True, exist_ok=True)
    config.results.write_text(text, encoding="utf-8")
    return text


def _draw(summaries: list[Summary], panels: list[str], config: BenchConfig) -> str:
    if importlib.util.find_spec("matplotlib") is None:
        return "(No plot: matplotlib is not installed; `pip install matplotlib` and run again.)"
    from bench.plot import plot_fanout  # noqa: PLC0415 - only the plot needs matplotlib, an optional extra

    plot_fanout(summaries, panels, config.plot)
    return f"![messages accepted over time]({os.path.relpath(config.plot, config.results.parent)})"


def _order(scenario: str) -> tuple[int, str]:
    return int(scenario.split(maxsplit=1)[0]), scenario
