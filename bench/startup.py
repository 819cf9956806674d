"""How long a command takes to answer, as a comms officer on a phone over SSH feels it.

    .venv/bin/python -m bench.startup [--runs 15]

Each command runs `--runs` times in a fresh interpreter, interleaved so that a busy shared
machine slows all of them alike; the median wall time is printed beside a bare interpreter's
(`python -c pass`), which no command can beat. Nothing is sent: `list` reads an empty store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "broadcaster --help": [sys.executable, "-m", "broadcaster", "--help"],
    "broadcaster send --help": [sys.executable, "-m", "broadcaster", "send", "--help"],
    "broadcaster status --help": [sys.executable, "-m", "broadcaster", "status", "--help"],
    "broadcaster serve --help": [sys.executable, "-m", "broadcaster", "serve", "--help"],
    "broadcaster runbooks": [sys.executable, "-m", "broadcaster", "runbooks"],
    "broadcaster list": [sys.executable, "-m", "broadcaster", "list"],
}
HELP_TARGET_SECONDS = 0.3  # every `--help`: a comms officer on a phone over SSH feels each second


def time_commands(runs: int, workdir: Path) -> dict[str, list[float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env["BROADCASTER_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'startup.db'}"
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            started = time.perf_counter()
            subprocess.run(command, cwd=workdir, env=env, capture_output=True, check=True)  # noqa: S603  # our own interpreter and CLI
            times[name].append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        times = time_commands(args.runs, Path(folder))
    print(
        f"Start-up, median of {args.runs} interleaved runs each "
        f"(`python -m bench.startup --runs {args.runs}`):"
    )
    print("| command | median | min | max |")
    print("|---|---|---|---|")
    for name, samples in times.items():
        print(
            f"| `{name}` | {statistics.median(samples):.3f} s | {min(samples):.3f} s | {max(samples):.3f} s |"
        )
    print()
    for name, samples in times.items():
        if name.endswith("--help"):
            median = statistics.median(samples)
            verdict = "met" if median < HELP_TARGET_SECONDS else "missed"
            print(f"Target: `{name}` under {HELP_TARGET_SECONDS} s: {median:.3f} s, {verdict}.")


if __name__ == "__main__":
    main()
