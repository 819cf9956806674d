"""How hard a benchmark client worked: CPU seconds, peak RSS and the longest event-loop stall."""

from __future__ import annotations

import asyncio
import resource
import time
from dataclasses import dataclass
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

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self._tick)
            stall = time.perf_counter() - before - self._tick
            if stall > self.max_stall:
                self.max_stall, self.stall_at = stall, time.time()


@dataclass(frozen=True, slots=True)
class EffortReading:
    """What a client spent from its trigger to its finish: the ClientResult fields alike for all."""

    cpu_seconds: float
    peak_rss_mb: float
    max_stall_ms: float
    stall_at: float  # seconds after the trigger when the longest stall ended


class EffortMeter:
    """Started at the trigger, read at the finish: CPU, peak RSS and the longest loop stall."""

    def __init__(self) -> None:
        self._monitor = LoopStallMonitor()
        self._cpu_before = 0.0
        self.trigger = 0.0

    def start(self) -> float:
        """Start measuring now; returns the trigger time (time.time())."""
        self._monitor.start()
        self._cpu_before, self.trigger = cpu_seconds(), time.time()
        return self.trigger

    async def finish(self) -> EffortReading:
        cpu = cpu_seconds() - self._cpu_before
        await self._monitor.stop()
        monitor = self._monitor
        return EffortReading(
            cpu_seconds=cpu,
            peak_rss_mb=peak_rss_mb(),
            max_stall_ms=monitor.max_stall * 1000,
            stall_at=monitor.stall_at - self.trigger if monitor.stall_at else 0.0,
        )
