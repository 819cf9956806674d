"""After an attempt: delivered, retry when (tenacity's backoff or the provider's hint), or give up."""

from __future__ import annotations

from broadcaster.config.settings import RetrySettings
from broadcaster.core.models import DeliveryState
from broadcaster.core.outcomes import Delivered, Failed, Retry
from broadcaster.delivery.retry_policy import RetryPolicy

POLICY = RetryPolicy(
    RetrySettings(
        initial_seconds=1,
        max_backoff_seconds=60,
        jitter_seconds=0.5,
        max_attempts=5,
        deadline_seconds=600,
    )
)
NOW, DEADLINE = 1000.0, 1600.0


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    """Waits double each attempt (plus up to 0.5 s jitter) and stop at the cap."""
    waits = [POLICY.backoff(n) for n in range(1, 9)]
    for n, wait in enumerate(waits[:6], start=1):
        assert 2 ** (n - 1) <= wait <= 2 ** (n - 1) + 0.5
    assert waits[-1] == 60


def test_provider_hint_longer_than_backoff_is_honoured() -> None:
    """A Retry-After of 30 s beats a 1 s backoff."""
    decision = POLICY.decide(Retry("throttled", after=30), attempts_made=1, now=NOW, deadline_at=DEADLINE)
    assert decision.state is DeliveryState.RETRYING
    assert decision.next_attempt_at == NOW + 30


def test_ambiguous_retry_is_marked_unknown_for_reconciliation() -> None:
    """A request that may have landed is not simply resent: it is reconciled first."""
    decision = POLICY.decide(Retry("timeout", ambiguous=True), attempts_made=1, now=NOW, deadline_at=DEADLINE)
    assert decision.state is DeliveryState.UNKNOWN
    assert decision.needs_reconcile


def test_retry_that_would_pass_the_deadline_fails_visibly() -> None:
    """A wait beyond the delivery deadline ends in failed, saying why."""
    decision = POLICY.decide(Retry("throttled", after=900), attempts_made=1, now=NOW, deadline_at=DEADLINE)
    assert decision.state is DeliveryState.FAILED
    assert decision.error is not None
    assert "deadline" in decision.error


def test_too_many_attempts_fail_with_the_last_reason() -> None:
    """After max_attempts the delivery fails and keeps the provider's last word."""
    decision = POLICY.decide(Retry("HTTP 503"), attempts_made=5, now=NOW, deadline_at=DEADLINE)
    assert decision.state is DeliveryState.FAILED
    assert decision.error == "gave up after 5 attempts: HTTP 503"


def test_delivered_and_failed_are_final() -> None:
    """Delivered and Failed need no further attempt."""
    assert (
        POLICY.decide(Delivered("x"), attempts_made=1, now=NOW, deadline_at=DEADLINE).state
        is DeliveryState.DELIVERED
    )
    failed = POLICY.decide(
        Failed("expired token", needs_attention=True),
        attempts_made=1,
        now=NOW,
        deadline_at=DEADLINE,
    )
    assert (failed.state, failed.error) == (DeliveryState.FAILED, "expired token")
