"""Plain records that cross the store's boundary, so callers never handle SQL rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broadcaster.core.channel_contract import RenderedContent
from broadcaster.core.incident_refs import incident_ref, parse_incident_ref
from broadcaster.core.models import ChannelKind, DeliveryState, IncidentStatus, Severity
from broadcaster.directory.audience import Audience

# Kept importable from here: they lived in this module before broadcaster.core.incident_refs.
__all__ = [
    "AuditEntry",
    "DeliveryRecord",
    "IncidentRecord",
    "NewIncident",
    "NewUpdate",
    "StoredUpdate",
    "UpdateRecord",
    "incident_ref",
    "parse_incident_ref",
]


@dataclass(frozen=True, slots=True)
class NewIncident:
    title: str
    severity: Severity
    audience: Audience
    channels: frozenset[ChannelKind]
    created_by: str
    runbook: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewUpdate:
    status: IncidentStatus
    message: str
    channels: frozenset[ChannelKind]
    author: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    actor: str
    origin: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    incident_id: int
    update_id: int
    seq: int
    deliveries: int

    @property
    def incident_ref(self) -> str:
        return incident_ref(self.incident_id)


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: int
    title: str
    severity: Severity
    status: IncidentStatus
    audience: Audience
    channels: frozenset[ChannelKind]
    runbook: str | None
    fields: dict[str, str]
    created_by: str
    created_at: float
    resolved_at: float | None

    @property
    def ref(self) -> str:
        return incident_ref(self.id)


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    id: int
    seq: int
    status: IncidentStatus
    message: str
    author: str
    created_at: float


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    update_seq: int
    practice: str
    channel: ChannelKind
    recipient: str
    route: str
    state: DeliveryState
    attempts: int
    provider_id: str | None
    last_error: str | None
    delivered_at: float | None
    content: RenderedContent
