"""Decide what happens after an attempt: delivered, retry when, reconcile first, or give up.

Retries are durable: the wait is stored as the delivery's next_attempt_at rather than slept in
memory, so a restart keeps the schedule. The schedule itself is tenacity's exponential backoff
with jitter; a provider's own hint (Retry-After, Graph usage headers) wins when it is longer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from tenacity import RetryCallState, wait_exponential_jitter

from broadcaster.config.settings import RetrySettings
from broadcaster.core.models import DeliveryState
from broadcaster.core.outcomes import Delivered, Failed, Retry, SendResult


@dataclass(frozen=True, slots=True)
class Decision:
    state: DeliveryState
    next_attempt_at: float
    needs_reconcile: bool
    error: str | None


class RetryPolicy:
    def __init__(self, settings: RetrySettings) -> None:
        self._settings = settings
        self._wait = wait_exponential_jitter(
            multiplier=settings.initial_seconds,
            max=settings.max_backoff_seconds,
            jitter=settings.jitter_seconds,
        )

    def backoff(self, attempts_made: int) -> float:
        """tenacity's wait before attempt `attempts_made + 1`."""
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]  # the wait strategy only reads attempt_number
        state.attempt_number = attempts_made
        return float(self._wait(state))

    def decide(self, outcome: SendResult, *, attempts_made: int, now: float, deadline_at: float) -> Decision:
        match outcome:
            case Delivered():
                return Decision(DeliveryState.DELIVERED, now, needs_reconcile=False, error=None)
            case Failed(reason=reason):
                return Decision(DeliveryState.FAILED, now, needs_reconcile=False, error=reason)
            case Retry():
                return self._retry(outcome, attempts_made=attempts_made, now=now, deadline_at=deadline_at)
            case _:
                assert_never(outcome)

    def _retry(self, outcome: Retry, *, attempts_made: int, now: float, deadline_at: float) -> Decision:
        maybe_sent = (
            " (it may have been delivered: the provider did not confirm)" if outcome.ambiguous else ""
        )
        if attempts_made >= self._settings.max_attempts:
            return Decision(
                DeliveryState.FAILED,
                now,
                needs_reconcile=False,
                error=f"gave up after {attempts_made} attempts: {outcome.reason}{maybe_sent}",
            )
        wait = max(self.backoff(attempts_made), outcome.after or 0.0)
        if now + wait > deadline_at:
            return Decision(
                DeliveryState.FAILED,
                now,
                needs_reconcile=False,
                error=f"gave up at the delivery deadline after {attempts_made} "
                f"attempts: {outcome.reason}{maybe_sent}",
            )
        state = DeliveryState.UNKNOWN if outcome.ambiguous else DeliveryState.RETRYING
        return Decision(state, now + wait, needs_reconcile=outcome.ambiguous, error=outcome.reason)
