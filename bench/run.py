"""The one command: simulate the providers, run every scenario and client, write the table and plot.

    .venv/bin/python -m bench.run [--quick] [--runs N] [--scenarios 50,1000,6500]

Each run starts fresh fakes in their own processes and one client in its own process: ours
(bench/ours.py), the bare aiohttp client (bench/bare_client.py) or the apprise CLI. Results:
bench/RESULTS.md and docs/fanout.png (see bench/README.md for what each figure means).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from bench.apprise_cli import run_apprise
from bench.client_spec import ClientResult, ClientSpec
from bench.config import APPRISE_MAX, CLIENT_MODULES, LARGE, NO_LIMIT, NOTIFY_LIMIT, BenchConfig, parse_args
from bench.figures import ClientUsage, RunFigures, run_figures
from bench.outbox_stats import opening_retries
from bench.report import APPRISE, BARE, OURS
from bench.results_page import load_runs, save_runs, write_results
from bench.scenario import Scenario, write_directory
from bench.simulators import REPO_ROOT, FakeOptions, RunningFakes, running_fakes


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
        written=r.written,
        cpu_seconds=r.cpu_seconds,
        peak_rss_mb=r.peak_rss_mb,
        max_stall_ms=r.max_stall_ms,
        retries=opening_retries(run_dir / "ours.db", r.trigger) if client == OURS else None,
    )


def main(argv: list[str] | None = None) -> None:
    config, command = parse_args(argv)
    if config.report_only:
        print(write_results(config, command, [run for path in config.report_only for run in load_runs(path)]))
        return
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
    save_runs(runs, config.workdir / "runs.json")
    print(write_results(config, command, runs))


if __name__ == "__main__":
    main()
