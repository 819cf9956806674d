"""Scripted and random faults for the provider fakes: the same plan drives tests and benchmarks.

A fake asks `plan.next_fault(key)` for every request it receives; `key` names what the request
is about (e.g. "feed:1000001", "sms:+447700900001"), so a test can script exact failures for one
target while a percentage of all other requests fail at random, reproducibly (seeded).
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from enum import StrEnum


class Fault(StrEnum):
    NONE = "none"
    TRANSIENT = "transient"  # provider-side error that was not acted on (Graph 2 / Notify 500 before write)
    THROTTLE = "throttle"  # rate limited, with the provider's hint
    ACT_THEN_TIMEOUT = "act_then_timeout"  # the request takes effect, but the reply never comes in time
    ACT_THEN_ERROR = "act_then_error"  # takes effect, then a 5xx: the classic duplicate hazard
    TOKEN_EXPIRED = "token_expired"  # Graph 190 / Notify 403: permanent, needs a person
    PERMISSION = "permission"  # Graph 200 / Notify 400 BadRequest: permanent


@dataclass
class FaultPlan:
    transient_rate: float = 0.0
    throttle_rate: float = 0.0
    throttle_hint_seconds: float = 1.0
    seed: int = 0
    scripted: dict[str, deque[Fault]] = field(default_factory=lambda: defaultdict(deque))
    injected: list[tuple[str, Fault]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def script(self, key: str, *faults: Fault) -> None:
        """The next requests about `key` meet these faults, in order; after them, random ones."""
        self.scripted[key].extend(faults)

    def next_fault(self, key: str) -> Fault:
        queue = self.scripted.get(key)
        if queue:
            fault = queue.popleft()
        else:
            draw = self._random.random()
            if draw < self.transient_rate:
                fault = Fault.TRANSIENT
            elif draw < self.transient_rate + self.throttle_rate:
                fault = Fault.THROTTLE
            else:
                fault = Fault.NONE
        if fault is not Fault.NONE:
            self.injected.append((key, fault))
        return fault
