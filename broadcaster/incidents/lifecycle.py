"""Which updates an incident takes: once resolved, none until someone reopens it on purpose."""

from __future__ import annotations

from broadcaster.core.errors import LifecycleRefused
from broadcaster.core.models import IncidentStatus


def check_update_allowed(ref: str, current: IncidentStatus, *, reopens: bool) -> None:
    """Raise LifecycleRefused unless an update (or a reopen, if `reopens`) may follow `current`.

    Checked again inside the write transaction, so two senders resolving at once cannot both
    pass: the second sees the first's resolve.
    """
    resolved = current is IncidentStatus.RESOLVED
    if resolved and not reopens:
        raise LifecycleRefused(
            f'{ref} is resolved; run `broadcaster reopen {ref} "what has happened"` to reopen it '
            f"(API: POST /api/incidents/{ref}/reopen). Nothing was sent."
        )
    if reopens and not resolved:
        raise LifecycleRefused(
            f"{ref} is not resolved (its status is {current.value}), so there is nothing to reopen; "
            f'post an update instead: `broadcaster update {ref} --status ... "..."`. Nothing was sent.'
        )
