"""Times as the public copy shows them: UK local time on pages, RFC 3339 in feeds and alerts."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _uk() -> tzinfo:
    try:
        return ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:  # a system without tz data: UTC, labelled as such
        return UTC


UK = _uk()


def shown(at: float) -> str:
    """'Tue 4 Mar, 07:02' in UK time, as a patient reads it."""
    local = datetime.fromtimestamp(at, UK)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def machine(at: float) -> str:
    """'2025-03-04T07:02:11+00:00': RFC 3339 with a numeric offset, as CAP 1.2 requires."""
    return datetime.fromtimestamp(int(at), UTC).isoformat()


def utc(at: float) -> datetime:
    return datetime.fromtimestamp(int(at), UTC)
