"""Read a provider's "wait this long" hint from a standard Retry-After header."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

MAX_HINT_SECONDS = 24 * 3600.0  # a hint beyond a day is a provider bug, not a plan


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), or None when absent/garbled."""
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return min(float(raw), MAX_HINT_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_HINT_SECONDS)
