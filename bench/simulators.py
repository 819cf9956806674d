"""Start the provider fakes (and a webhook sink for apprise) in their own processes; collect what they saw.

Each fake gets a free port and its own process, so it does not share the client's CPU budget;
on SIGTERM each writes what it received (tests/fakes/bench_records.py) and we read it back.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.scenario import PAGE_TOKEN

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 20.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class FakeOptions:
    latency: float = 0.1
    jitter: float = 0.02
    transient_rate: float = 0.0
    throttle_rate: float = 0.0
    throttle_hint: float = 1.0  # seconds; the Graph fake sends it in X-Business-Use-Case-Usage
    notify_rate_limit: int | None = None  # per minute: Notify's real 3,000, or none
    seed: int = 1


@dataclass
class _Process:
    name: str
    port: int
    dump: Path
    popen: subprocess.Popen[bytes]


@dataclass
class Collected:
    """Everything the fakes recorded in one run, each message tagged with its provider."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)  # Notify's error replies by status
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # per fake, while the client ran


@dataclass
class RunningFakes:
    processes: list[_Process]
    _cpu_at_start: dict[str, float] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port(name)}"

    def port(self, name: str) -> int:
        return next(p.port for p in self.processes if p.name == name)

    def client_starts(self) -> None:
        """Mark the start of the measured window for the fakes' own CPU use."""
        self._cpu_at_start = {p.name: _cpu_of(p.popen.pid) for p in self.processes}

    def stop(self) -> Collected:
        collected = Collected()
        for p in self.processes:
            collected.cpu_seconds[p.name] = _cpu_of(p.popen.pid) - self._cpu_at_start.get(p.name, 0.0)
            p.popen.send_signal(signal.SIGTERM)
        for p in self.processes:
            p.popen.wait(timeout=120)
            _merge(collected, p.name, json.loads(p.dump.read_text(encoding="utf-8")))
        return collected


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _commands(options: FakeOptions) -> dict[str, list[str]]:
    shared = ["--latency", str(options.latency), "--jitter", str(options.jitter), "--seed", str(options.seed)]
    rates = ["--transient-rate", str(options.transient_rate), "--throttle-rate", str(options.throttle_rate)]
    notify_limit = ["--rate-limit", str(options.notify_rate_limit)] if options.notify_rate_limit else []
    return {
        "graph": [
            "tests.fakes.graph_api",
            *shared,
            *rates,
            "--throttle-hint",
            str(options.throttle_hint),
            "--any-page-token",
            PAGE_TOKEN,
        ],
        "notify": [
            "tests.fakes.notify_api",
            *shared,
            "--transient",
            str(options.transient_rate),
            "--throttle",
            str(options.throttle_rate),
            *notify_limit,
        ],
        "smtp": ["tests.fakes.smtp_server", *shared, *rates],
        "sink": ["bench.json_sink", *shared],
    }


@contextmanager
def running_fakes(options: FakeOptions, workdir: Path, names: tuple[str, ...]) -> Iterator[RunningFakes]:
    """The named fakes ("graph", "notify", "smtp", "sink") on free ports until the block ends."""
    ports = {name: free_port() for name in names}
    commands = _commands(options)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    processes = []
    try:
        for name in names:
            dump = workdir / f"{name}.records.json"
            args = [sys.executable, "-m", *commands[name], "--port", str(ports[name]), "--dump", str(dump)]
            with (workdir / f"{name}.out").open("wb") as out:
                # Our own interpreter running our own modules, with arguments we built.
                popen = subprocess.Popen(  # noqa: S603
                    args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                )
            processes.append(_Process(name, ports[name], dump, popen))
        for p in processes:
            _wait_until_listening(p)
        yield RunningFakes(processes)
    finally:
        for p in processes:
            if p.popen.poll() is None:
                p.popen.kill()
                p.popen.wait()


def _wait_until_listening(process: _Process) -> None:
    give_up_at = time.monotonic() + START_TIMEOUT
    while time.monotonic() < give_up_at:
        if process.popen.poll() is not None:
            raise RuntimeError(f"the {process.name} fake exited at start; see its .out file")
        try:
            with socket.create_connection(("127.0.0.1", process.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the {process.name} fake did not listen within {START_TIMEOUT:g} s")


def _cpu_of(pid: int) -> float:
    """utime + stime from /proc/PID/stat (fields 14 and 15), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _merge(into: Collected, provider: str, record: dict[str, Any]) -> None:
    into.accepted += [{**a, "provider": provider} for a in record["accepted"]]
    into.arrivals += record["arrivals"]
    for fault, n in record["injected"].items():
        into.injected[fault] = into.injected.get(fault, 0) + n
    for status, n in record["refusals"].items():
        into.refusals[status] = into.refusals.get(status, 0) + n
