"""One run's figures, from what the fakes accepted (their clock) and what the client reported.

Acceptance is measured AT the fakes, as the provider would see it; "first request" is the
first request to arrive at any fake. A message is an update if it carries the update's text
(Facebook status-line edits are left out: the comment is the update); a repeat of the same text to the same
recipient is a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.outbox_stats import Retries
from bench.scenario import PER_PRACTICE, UPDATE_MARK, Scenario
from bench.simulators import Collected


@dataclass(frozen=True, slots=True)
class ClientUsage:
    """The client side of a run, on the shared clock (None: the client cannot say)."""

    trigger: float
    finished: float
    update_posted: float | None = None
    written: float | None = None
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None
    max_stall_ms: float | None = None
    retries: Retries | None = None  # ours only: from its outbox


@dataclass(frozen=True, slots=True)
class RunFigures:
    scenario: str
    client: str  # "ours" | "bare aiohttp" | "apprise CLI"
    deliveries: int  # opening messages accepted, each counted once
    first_request_ms: float
    written_ms: float | None  # trigger -> the opening is in the outbox
    p50_s: float
    p95_s: float
    p100_s: float
    per_second: float  # opening deliveries / p100
    sustained_per_second: float  # between the first and the last opening acceptance
    cpu_per_1000: float | None  # client CPU seconds per 1,000 messages (opening + update)
    peak_rss_mb: float | None
    max_stall_ms: float | None
    update_start_ms: float | None  # update posted -> its first message accepted
    update_done_s: float | None  # update posted -> its last message accepted
    duplicates: int
    missing: int  # expected messages (opening + update) never accepted
    faults: int  # faults the fakes injected
    refused_429: int  # Notify's rate-limit refusals
    max_attempts: int | None  # ours: the most attempts any opening delivery needed
    slowest_two_retries_s: float | None  # ours: trigger -> the slowest delivery retried at most twice
    fakes_cpu: float  # the busiest fake's CPU share while the client ran (1.0 = one core)
    curve: tuple[float, ...]  # opening acceptances, seconds after the trigger, sorted


def _is_update(message: dict[str, Any]) -> bool:
    return UPDATE_MARK in message["text"]


def _first_acceptances(messages: list[dict[str, Any]]) -> tuple[list[float], int]:
    """Each message's first acceptance time, and how many were accepted again."""
    first: dict[tuple[str, str, str], float] = {}
    duplicates = 0
    for m in sorted(messages, key=lambda m: float(m["at"])):
        key = (m["kind"], m["to"], m["text"])
        if key in first:
            duplicates += 1
        else:
            first[key] = float(m["at"])
    return sorted(first.values()), duplicates


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile: the value below which `share` of the values fall."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(share * len(sorted_values) + 0.4999))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def expected_messages(scenario: Scenario, *, with_update: bool) -> int:
    update = scenario.practices * PER_PRACTICE if with_update and not scenario.rate_limited else 0
    return scenario.deliveries + update


def run_figures(scenario: Scenario, client: str, collected: Collected, usage: ClientUsage) -> RunFigures:
    accepted = [m for m in collected.accepted if m["kind"] != "edit"]
    opening, dup_opening = _first_acceptances([m for m in accepted if not _is_update(m)])
    update, dup_update = _first_acceptances([m for m in accepted if _is_update(m)])
    t0 = usage.trigger
    offsets = [t - t0 for t in opening]
    p100 = offsets[-1] if offsets else float("nan")
    posted = usage.update_posted
    expected = expected_messages(scenario, with_update=posted is not None)
    window = max(usage.finished - t0, 1e-9)
    return RunFigures(
        scenario=scenario.name,
        client=client,
        deliveries=len(opening),
        first_request_ms=(min(collected.arrivals) - t0) * 1000 if collected.arrivals else float("nan"),
        written_ms=(usage.written - t0) * 1000 if usage.written is not None else None,
        p50_s=percentile(offsets, 0.5),
        p95_s=percentile(offsets, 0.95),
        p100_s=p100,
        per_second=len(opening) / p100 if offsets else 0.0,
        sustained_per_second=(len(opening) - 1) / (opening[-1] - opening[0]) if len(opening) > 1 else 0.0,
        cpu_per_1000=(usage.cpu_seconds / max(len(opening) + len(update), 1) * 1000)
        if usage.cpu_seconds is not None
        else None,
        peak_rss_mb=usage.peak_rss_mb,
        max_stall_ms=usage.max_stall_ms,
        update_start_ms=(update[0] - posted) * 1000 if posted is not None and update else None,
        update_done_s=update[-1] - posted if posted is not None and update else None,
        duplicates=dup_opening + dup_update,
        missing=max(expected - len(opening) - len(update), 0),
        faults=sum(collected.injected.values()),
        refused_429=collected.refusals.get("429", 0),
        max_attempts=usage.retries.max_attempts if usage.retries else None,
        slowest_two_retries_s=usage.retries.slowest_within_allowed if usage.retries else None,
        fakes_cpu=max(collected.cpu_seconds.values(), default=0.0) / window,
        curve=tuple(offsets),
    )
