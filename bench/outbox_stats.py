"""What our outbox says about a run's retries: attempts per delivery, read from its SQLite file."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

RETRIES_ALLOWED = 2  # the fault target allows the first two steps of the backoff schedule


@dataclass(frozen=True, slots=True)
class Retries:
    max_attempts: int
    slowest_within_allowed: float | None  # seconds after the trigger: slowest delivery retried at most twice


def opening_retries(database: Path, trigger: float) -> Retries:
    """Attempts made by the opening's deliveries (seq 0), and the slowest that needed <= 2 retries."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        most, slowest = conn.execute(
            "SELECT MAX(attempts), MAX(CASE WHEN attempts <= ? THEN delivered_at END) "
            "FROM deliveries WHERE seq = 0",
            (RETRIES_ALLOWED + 1,),
        ).fetchone()
    return Retries(int(most or 0), slowest - trigger if slowest is not None else None)
