"""The one command: simulate the providers, run every scenario and client, write the table and plot.

    .venv/bin/python -m bench.run [--quick] [--runs N] [--scenarios 50,1000,6500]

Each run starts fresh fakes in their own processes and one client in its own process: ours
(bench/ours.py), the bare aiohttp client (bench/bare_client.py) or the apprise CLI. Results:
bench/RESULTS.md and docs/fanout.png (see bench/README.md for what each figure means).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bench.apprise_cli import run_apprise
from bench.client_spec import ClientResult, ClientSpec, Concurrency
from bench.figures import ClientUsage, RunFigures, run_figures
from bench.report import (
    APPRISE,
    BARE,
    OURS,
    Summary,
    machine_description,
    markdown_table,
    ratio_lines,
    summarise,
)
from bench.scenario import Scenario, write_directory
from bench.simulators import REPO_ROOT, FakeOptions, RunningFakes, running_fakes
from bench.targets import check_targets, verdict_lines

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
    )
    return config, " ".join([".venv/bin/python -m bench.run", *(argv if argv is not None else sys.argv[1:])])


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(part) for part in text.split(",") if part.strip()}))


def planned_runs(config: BenchConfig) -> list[tuple[Scenario, str, int]]:
    """Interleaved, so that noise from a shared machine spreads over every client alike."""
    plan = []
    for rep in range(max(config.runs, config.large_runs)):
        for size in config.sizes:
            if rep >= (config.large_runs if size >= LARGE else config.runs):
                continue
            plan += [(Scenario(size), OURS, rep), (Scenario(size), BARE, rep)]
            if config.faults:
                plan.append((Scenario(size, faults=True), OURS, rep))
            if size >= LARGE:
                plan.append((Scenario(size, update_after=1.0), OURS, rep))
    plan += [(Scenario(size), APPRISE, 0) for size in config.sizes if config.apprise and size <= APPRISE_MAX]
    if config.rate_limit_practices:
        plan.append((Scenario(config.rate_limit_practices, rate_limited=True), OURS, 0))
    return plan


def fake_options(config: BenchConfig, scenario: Scenario, rep: int) -> FakeOptions:
    options = FakeOptions(latency=config.latency, jitter=config.jitter, seed=rep + 1)
    if scenario.faults:
        options = replace(options, transient_rate=0.10, throttle_rate=0.02)
    if scenario.rate_limited:
        options = replace(options, notify_rate_limit=NOTIFY_LIMIT)
    return options


def run_one(config: BenchConfig, scenario: Scenario, client: str, rep: int) -> RunFigures:
    run_dir = (
        config.workdir
        / f"{scenario.name.replace(' ', '_').replace('@', '-')}-{client.split(maxsplit=1)[0]}-{rep}"
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    names = ("sink",) if client == APPRISE else ("graph", "notify", "smtp")
    with running_fakes(fake_options(config, scenario, rep), run_dir, names) as fakes:
        fakes.client_starts()
        if client == APPRISE:
            done = run_apprise(run_dir, fakes.port("sink"), scenario.deliveries)
            usage = ClientUsage(
                done.trigger, done.finished, cpu_seconds=done.cpu_seconds, peak_rss_mb=done.peak_rss_mb
            )
        else:
            usage = _run_client(config, scenario, client, run_dir, fakes)
        collected = fakes.stop()
    return run_figures(scenario, client, collected, usage)


def _run_client(
    config: BenchConfig, scenario: Scenario, client: str, run_dir: Path, fakes: RunningFakes
) -> ClientUsage:
    directory = run_dir / "practices.yaml"
    write_directory(directory, scenario.practices)
    spec = ClientSpec(
        practices=scenario.practices,
        directory=str(directory),
        workdir=str(run_dir),
        graph_url=fakes.url("graph"),
        notify_url=fakes.url("notify"),
        smtp_port=fakes.port("smtp"),
        concurrency=config.concurrency,
        notify_per_minute=NOTIFY_LIMIT if scenario.rate_limited else NO_LIMIT,
        update_after=scenario.update_after,
        texts_only=scenario.rate_limited,
    )
    spec.save(run_dir / "spec.json")
    command = [
        sys.executable,
        "-m",
        CLIENT_MODULES[client],
        str(run_dir / "spec.json"),
        str(run_dir / "result.json"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    with (run_dir / "client.out").open("wb") as out:
        # Our own interpreter and module, with arguments we built.
        done = subprocess.run(  # noqa: S603
            command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"{client} failed in {run_dir}; see client.out there")
    r = ClientResult.load(run_dir / "result.json")
    return ClientUsage(
        trigger=r.trigger,
        finished=r.finished,
        update_posted=r.update_posted,
        written=r.written if client == OURS else None,
        cpu_seconds=r.cpu_seconds,
        peak_rss_mb=r.peak_rss_mb,
        max_stall_ms=r.max_stall_ms,
        failed=r.failed,
    )


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
    (config.workdir / "runs.json").write_text(json.dumps([asdict(r) for r in runs]), encoding="utf-8")
    return text


def _draw(summaries: list[Summary], panels: list[str], config: BenchConfig) -> str:
    if importlib.util.find_spec("matplotlib") is None:
        return "(No plot: matplotlib is not installed; `pip install matplotlib` and run again.)"
    from bench.plot import plot_fanout  # noqa: PLC0415 - only the plot needs matplotlib, an optional extra

    plot_fanout(summaries, panels, config.plot)
    return f"![messages accepted over time]({os.path.relpath(config.plot, config.results.parent)})"


def _order(scenario: str) -> tuple[int, str]:
    return int(scenario.split(maxsplit=1)[0]), scenario


def main(argv: list[str] | None = None) -> None:
    config, command = parse_args(argv)
    plan = planned_runs(config)
    print(f"{len(plan)} runs; files in {config.workdir}", file=sys.stderr)
    runs = []
    for number, (scenario, client, rep) in enumerate(plan, 1):
        started = time.monotonic()
        figures = run_one(config, scenario, client, rep)
        runs.append(figures)
        print(
            f"[{number}/{len(plan)}] {scenario.name} {client}: p100 {figures.p100_s:.2f} s, "
            f"first request {figures.first_request_ms:.0f} ms ({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
        )
    print(write_results(config, command, runs))


if __name__ == "__main__":
    main()
