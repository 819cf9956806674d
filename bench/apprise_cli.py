"""What a team would script instead: the apprise command line sending one message to N webhook URLs.

The URLs (`json://127.0.0.1:PORT/p/<i>`, one per endpoint) go in config files, since thousands of
them would not fit on a command line; apprise reads at most 128 KB of each file, so several.
`--service-limit 0`: by default apprise gives up on any URL still queued after 60 s (the clock
starts at submission), and we want them all delivered.
"""

from __future__ import annotations

import contextlib
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.process_stats import peak_rss_mb
from bench.scenario import OPENING_TEXT

APPRISE = Path(sys.executable).parent / "apprise"


@dataclass(frozen=True, slots=True)
class AppriseRun:
    trigger: float
    finished: float
    returncode: int
    cpu_seconds: float  # the whole process, start-up included: what the caller pays
    peak_rss_mb: float


URLS_PER_CONFIG = 2000  # ~70 KB: under apprise's 128 KB limit per configuration file


def write_configs(workdir: Path, sink_port: int, endpoints: int) -> list[Path]:
    """Apprise's TEXT config format: one URL per line."""
    paths: list[Path] = []
    for first in range(0, endpoints, URLS_PER_CONFIG):
        path = workdir / f"apprise-urls-{len(paths)}.txt"
        urls = (
            f"json://127.0.0.1:{sink_port}/p/{i}\n"
            for i in range(first, min(first + URLS_PER_CONFIG, endpoints))
        )
        path.write_text("".join(urls), encoding="utf-8")
        paths.append(path)
    return paths


def run_apprise(workdir: Path, sink_port: int, endpoints: int) -> AppriseRun:
    configs = [
        arg for path in write_configs(workdir, sink_port, endpoints) for arg in ("--config", str(path))
    ]
    command = [
        str(APPRISE),
        "--storage-mode",
        "memory",
        "--service-limit",
        "0",
        "--title",
        "Phone lines down",
        "--body",
        OPENING_TEXT,
        *configs,
    ]
    with (workdir / "apprise.out").open("wb") as out:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = children.ru_utime + children.ru_stime
        trigger = time.time()
        # Our own virtualenv's apprise, with arguments we built.
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        peak = 0.0
        while process.poll() is None:  # VmHWM only grows: the last reading is the peak, near enough
            with contextlib.suppress(OSError):
                peak = peak_rss_mb(process.pid)
            time.sleep(0.05)
        finished = time.time()
    # The finished child's CPU time; its ru_maxrss would include ours (see peak_rss_mb).
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    return AppriseRun(trigger, finished, process.returncode, cpu, peak)
