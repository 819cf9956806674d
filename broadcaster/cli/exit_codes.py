"""What the CLI's exit status means, so scripts and monitors can act on it."""

from __future__ import annotations

from collections import Counter
from enum import IntEnum

from broadcaster.core.models import DeliveryState


class ExitCode(IntEnum):
    DELIVERED = 0  # everything asked for was delivered (or, for a dry run, would be sent)
    INTERNAL_ERROR = 1  # a bug: the traceback is in the log
    REFUSED = 2  # bad input or configuration: nothing was sent, the message says what to fix
    NOT_FINISHED = 3  # still retrying or unconfirmed when the wait ended; the server carries on
    SOME_FAILED = 4  # at least one delivery failed for good; `broadcaster status` says why


def exit_code_for(counts: Counter[DeliveryState]) -> ExitCode:
    if counts[DeliveryState.FAILED]:
        return ExitCode.SOME_FAILED
    unfinished = sum(n for state, n in counts.items() if not state.is_final)
    return ExitCode.NOT_FINISHED if unfinished else ExitCode.DELIVERED
