"""Whether this process can write to its store right now: the dispatcher's gate and `/healthz`.

Sending stops while any write the dispatcher depends on (recording outcomes, claiming work,
taking back expired leases) is failing, because a message whose outcome cannot be recorded
would be sent again after a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import DBAPIError
from tenacity import RetryCallState, wait_exponential_jitter

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StoreProblem:
    what: str  # "recording outcomes", "claiming deliveries"
    error: str  # the driver's message, e.g. "database is locked"
    since: float

    def describe(self) -> str:
        since = time.strftime("%H:%M:%S", time.localtime(self.since))
        return f"{self.what} has been failing since {since}: {self.error}"


class StoreHealth:
    """Failing writes by kind, reported by whoever attempts them; healthy when none is failing."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._problems: dict[str, StoreProblem] = {}
        self._failures: dict[str, int] = {}  # consecutive, by kind: how long to wait before the next try
        self._wait = wait_exponential_jitter(multiplier=0.2, max=5.0, jitter=0.1)

    @property
    def healthy(self) -> bool:
        return not self._problems

    @property
    def problems(self) -> list[StoreProblem]:
        return list(self._problems.values())

    def failed(self, what: str, exc: BaseException) -> None:
        error = driver_message(exc)
        self._failures[what] = self._failures.get(what, 0) + 1
        if what not in self._problems:
            # Logged once, at error, the moment it starts: a person must look now.
            # A driver error says enough; anything else is a bug, so keep its traceback.
            trace = None if isinstance(exc, DBAPIError) else exc
            log.error("store_write_failing", what=what, error=error, sending="paused", exc_info=trace)
            self._problems[what] = StoreProblem(what, error, self._clock())

    def succeeded(self, what: str) -> None:
        self._failures.pop(what, None)
        problem = self._problems.pop(what, None)
        if problem is not None:
            log.warning(
                "store_write_recovered",
                what=what,
                failing_for_seconds=round(self._clock() - problem.since, 1),
            )

    def retry_in(self, what: str) -> float:
        """Seconds to wait before trying `what` again: tenacity's exponential backoff with jitter."""
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]  # the wait strategy only reads attempt_number
        state.attempt_number = self._failures.get(what, 1)
        return float(self._wait(state))


def driver_message(exc: BaseException) -> str:
    """The driver's own words ("database is locked"), without SQLAlchemy's SQL and links."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc) or type(exc).__name__
    return text.splitlines()[0][:300]
