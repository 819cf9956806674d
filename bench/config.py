"""The benchmark's settings, from its command line."""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.client_spec import Concurrency
from bench.report import BARE, OURS
from bench.simulators import REPO_ROOT

LARGE = 6500  # all of England: fewer runs, an update during the broadcast, no apprise
APPRISE_MAX = 1000  # the apprise CLI takes minutes beyond this at 100 ms latency
NOTIFY_LIMIT = 3000  # Notify's real per-key limit, requests per minute
NO_LIMIT = 1_000_000  # our pacer's rate when the fake has no limit: effectively off
CLIENT_MODULES = {OURS: "bench.ours", BARE: "bench.bare_client"}
DEFAULT_IN_FLIGHT = Concurrency()


@dataclass(frozen=True, slots=True)
class BenchConfig:
    sizes: tuple[int, ...]
    runs: int
    large_runs: int
    faults: bool
    apprise: bool
    rate_limit_practices: int  # 0: skip; texts = 2 per practice, at 50 a second
    latency: float
    jitter: float
    concurrency: Concurrency
    workdir: Path
    results: Path
    plot: Path
    report_only: tuple[Path, ...] = ()  # re-render RESULTS.md and the plot from saved runs.json files


def parse_args(argv: list[str] | None) -> tuple[BenchConfig, str]:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0] if __doc__ else None
    )
    p.add_argument("--quick", action="store_true", help="one run each of 50 and 1000; no rate-limit run")
    p.add_argument("--runs", type=int, default=3, help="runs per scenario (median reported); default 3")
    p.add_argument("--large-runs", type=int, default=2, help=f"runs of the {LARGE}-practice scenarios")
    p.add_argument("--scenarios", default=f"50,1000,{LARGE}", help="practice counts, comma-separated")
    p.add_argument("--no-faults", action="store_true", help="skip the 10%% transient / 2%% throttled runs")
    p.add_argument("--no-apprise", action="store_true", help="skip the apprise CLI comparison")
    p.add_argument(
        "--rate-limit-practices", type=int, default=3000, help="0 skips; 3000 = 6,000 texts, 2 min"
    )
    p.add_argument("--latency", type=float, default=0.1, help="seconds per request at every fake")
    p.add_argument("--jitter", type=float, default=0.02, help="extra random 0..N seconds per request")
    p.add_argument("--graph", type=int, default=DEFAULT_IN_FLIGHT.graph, help="Graph requests in flight")
    p.add_argument("--notify", type=int, default=DEFAULT_IN_FLIGHT.notify, help="Notify requests in flight")
    p.add_argument("--smtp", type=int, default=DEFAULT_IN_FLIGHT.smtp, help="SMTP sessions")
    p.add_argument("--workdir", type=Path, help="keep run files here (default: a new temporary folder)")
    p.add_argument("--results", type=Path, default=REPO_ROOT / "bench" / "RESULTS.md")
    p.add_argument("--plot", type=Path, default=REPO_ROOT / "docs" / "fanout.png")
    p.add_argument(
        "--report-only", type=Path, nargs="+", metavar="RUNS_JSON", help="rewrite the results from saved runs"
    )
    a = p.parse_args(argv)
    quick = a.quick
    config = BenchConfig(
        sizes=(50, 1000) if quick and a.scenarios == p.get_default("scenarios") else _sizes(a.scenarios),
        runs=1 if quick else a.runs,
        large_runs=1 if quick else a.large_runs,
        faults=not a.no_faults,
        apprise=not a.no_apprise,
        rate_limit_practices=0 if quick else a.rate_limit_practices,
        latency=a.latency,
        jitter=a.jitter,
        concurrency=Concurrency(graph=a.graph, notify=a.notify, smtp=a.smtp),
        workdir=a.workdir or Path(tempfile.mkdtemp(prefix="bench-")),
        results=a.results,
        plot=a.plot,
        report_only=tuple(a.report_only or ()),
    )
    return config, " ".join([".venv/bin/python -m bench.run", *(argv if argv is not None else sys.argv[1:])])


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
