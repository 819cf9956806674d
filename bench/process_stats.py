"""How hard a benchmark client worked: CPU seconds, peak RSS and the longest event-loop stall."""

from __future__ import annotations

import asyncio
import resource
import time
from pathlib import Path


def cpu_seconds() -> float:
    """User + system CPU of this process, every thread included (aiosqlite works in one)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's own high-water RSS (VmHWM). Not ru_maxrss: Linux carries that over from the
    parent across fork and exec, so every client would report at least the runner's size."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return 0.0


class LoopStallMonitor:
    """A 10 ms ticker: how late it wakes is how long something held the event loop."""

    def __init__(self, *, tick: float = 0.01) -> None:
        self._tick = tick
        self._task: asyncio.Task[None] | None = None
        self.max_stall = 0.0
        self.stall_at = 0.0  # time.time() when the longest stall ended

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="loop-stall-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def reset(self) -> None:
        self.max_stall, self.stall_at = 0.0, 0.0

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self._tick)
            stall = time.perf_counter() - before - self._tick
            if stall > self.max_stall:
                self.max_stall, self.stall_at = stall, time.time()
