"""An alert in the one form every monitor's payload is read into."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class Alert:
    """One cause, firing or resolved. `cause_key` names the cause across deliveries (at most one
    open incident each); `episode` tells one firing of it from the next (Alertmanager's startsAt),
    so a late repeat of an episode already resolved opens nothing."""

    source: str  # "alertmanager", "uptime-kuma", "generic"
    cause_key: str
    firing: bool
    ods: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    runbook: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)  # offered to the runbook; unknown ones dropped
    title: str | None = None
    message: str | None = None
    episode: str = ""
    policy: str | None = None  # "open" or "draft" (core.models.AlertPolicy); None: the setting's


def split_list(values: Iterable[str | None]) -> tuple[str, ...]:
    """ "X99001, X99002" (a label holds one string) and repeated values alike, each once."""
    found: dict[str, None] = {}
    for value in values:
        for part in (value or "").split(","):
            if part.strip():
                found[part.strip()] = None
    return tuple(found)


def merge_by_cause(alerts: Iterable[Alert]) -> list[Alert]:
    """One alert per cause: the firing ones of a cause (Alertmanager sends a whole group, one
    alert per target, with a shared `cause` label) become one, for all their practices; a cause
    is resolved only when none of its alerts in the delivery still fires."""
    by_cause: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_cause.setdefault(alert.cause_key, []).append(alert)
    merged = []
    for same in by_cause.values():
        firing = [a for a in same if a.firing] or same
        first = firing[0]
        merged.append(
            replace(
                first,
                ods=split_list(code for a in firing for code in a.ods),
                groups=split_list(group for a in firing for group in a.groups),
            )
        )
    return merged
