"""Plain records that cross the store's boundary, so callers never handle SQL rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broadcaster.core.channel_contract import RenderedContent
from broadcaster.core.incident_refs import incident_ref
from broadcaster.core.models import ChannelKind, DeliveryState, DraftState, IncidentStatus, Severity

# An audience as stored: the JSON the directory's Audience writes and reads back; the store
# keeps it without looking inside.
AudienceJson = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewIncident:
    title: str
    severity: Severity
    audience: AudienceJson
    channels: frozenset[ChannelKind]
    created_by: str
    runbook: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    exercise: bool = False


@dataclass(frozen=True, slots=True)
class NewUpdate:
    status: IncidentStatus
    message: str
    channels: frozenset[ChannelKind]
    author: str


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One message for one endpoint, rendered before the write transaction starts."""

    practice: str
    channel: ChannelKind
    recipient: str
    route: str
    credential_ref: str | None
    content: RenderedContent


@dataclass(frozen=True, slots=True)
class AuditEntry:
    actor: str
    origin: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)
    credential: str = ""  # "cli", "session", "api-token", "legacy-token"


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
    audience: AudienceJson
    channels: frozenset[ChannelKind]
    runbook: str | None
    fields: dict[str, str]
    created_by: str
    created_at: float
    resolved_at: float | None
    exercise: bool = False
    waiting_draft_seq: int | None = None  # the update waiting for a person to confirm it
    sent: bool = True  # false while its first message has not gone out (a draft)

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
    created_at: float  # when it went out (a draft: when it was confirmed)
    draft: DraftState | None = None  # None: written to be sent at once
    drafted_at: float | None = None
    decided_by: str | None = None  # who confirmed or discarded the draft
    decided_at: float | None = None


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
