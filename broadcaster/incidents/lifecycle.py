"""Which updates an incident takes: once resolved, none until someone reopens it on purpose;
while a monitor's draft waits for a person, none until it is confirmed or discarded."""

from __future__ import annotations

from broadcaster.core.errors import LifecycleRefused
from broadcaster.core.models import IncidentStatus
from broadcaster.incidents.queries import IncidentSummary
from broadcaster.store.drafts import draft_waiting


def check_update_allowed(incident: IncidentSummary, *, reopens: bool) -> None:
    """Raise LifecycleRefused unless an update (or a reopen, if `reopens`) may follow the
    incident as read.

    Checked again inside the write transaction, so two senders resolving at once cannot both
    pass: the second sees the first's resolve (and a draft written meanwhile).
    """
    ref, current = incident.ref, incident.status
    if incident.waiting_draft_seq is not None:
        raise draft_waiting(ref, incident.waiting_draft_seq)
    resolved = current is IncidentStatus.RESOLVED
    if reopens and not incident.sent:
        raise LifecycleRefused(
            f"{ref} was a monitor's draft that was discarded: it was never sent, so there is "
            "nothing to reopen; open a new incident instead (`broadcaster send`). Nothing was sent."
        )
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
