"""An incident's reference as people write it ("INC-42") and the store's number behind it."""

from __future__ import annotations

import re

from broadcaster.core.errors import BroadcasterError

# SQLite stores an INTEGER PRIMARY KEY as a signed 64-bit number; a larger one cannot name a row
# and makes the driver raise OverflowError, so it is refused here like any other malformed ref.
MAX_INCIDENT_ID = 2**63 - 1

# ASCII only: str.isdigit() also accepts "²" and "①", which int() then refuses.
_REF = re.compile(r"(?:INC-)?([0-9]{1,19})", re.ASCII | re.IGNORECASE)
_SHOWN_LIMIT = 40  # characters of the refused text quoted back, so a huge input stays a short message


class IncidentRefError(BroadcasterError, ValueError):
    """Text that is not an incident reference. The message says what one looks like."""


# Stands in for the reference while an incident's first message is rendered, before the store
# has numbered it; the store writes the number it assigns in its place. Word joiners, which no
# practice or message text contains; as long as a long real one ("INC-1234567"), so length
# limits checked on it still hold.
PROVISIONAL_REF = "INC-\u2060\u2060\u2060\u2060\u2060\u2060\u2060"


def incident_ref(incident_id: int) -> str:
    """42 -> "INC-42"."""
    return f"INC-{incident_id}"


def parse_incident_ref(text: str) -> int:
    """ "INC-42", "inc-42" or "42" (surrounding spaces ignored) -> 42.

    Raises IncidentRefError for anything else: other characters, digits that are not ASCII
    0-9, zero, or a number beyond what the store can hold.
    """
    match = _REF.fullmatch(text.strip())
    number = int(match.group(1)) if match else 0
    if not 1 <= number <= MAX_INCIDENT_ID:
        raise IncidentRefError(
            f"{_shown(text)} is not an incident reference: references look like INC-42 "
            "(INC- then the incident's number, as `broadcaster list` shows them)"
        )
    return number


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN_LIMIT else text[:_SHOWN_LIMIT] + "...")


def update_number(text: str) -> int | None:
    """An update's number as a query or form sends it ("2"); None for anything else ("", "²",
    a number too long to be one), which the caller treats as "the latest" or "whichever waits"."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
