"""An alert in the one form every monitor's payload is read into."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


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


def split_list(values: Iterable[str | None]) -> tuple[str, ...]:
    """ "X99001, X99002" (a label holds one string) and repeated values alike, each once."""
    found: dict[str, None] = {}
    for value in values:
        for part in (value or "").split(","):
            if part.strip():
                found[part.strip()] = None
    return tuple(found)
