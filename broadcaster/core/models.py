"""The product's vocabulary: channel kinds, incident statuses, delivery states."""

from __future__ import annotations

from enum import StrEnum


class ChannelKind(StrEnum):
    FACEBOOK = "facebook"
    SMS = "sms"
    EMAIL = "email"
    APPRISE = "apprise"


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"


class DeliveryState(StrEnum):
    BLOCKED = "blocked"  # waits for the previous message of its thread to be delivered or fail
    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    UNKNOWN = "unknown"  # an ambiguous attempt: reconcile with the provider before any resend
    DELIVERED = "delivered"
    FAILED = "failed"
    HELD = "held"  # a draft's message: goes out only once a person confirms the draft
    DISCARDED = "discarded"  # a draft's message a person (or the monitor's recovery) discarded: never sent

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


# Settled: nothing more will happen to it (a discarded draft's message never goes out).
FINAL_STATES = frozenset({DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.DISCARDED})


class AlertPolicy(StrEnum):
    """What a monitor's failing check or firing alert does (a check's or an alert's `policy`)."""

    OPEN = "open"  # open the incident and send it at once
    DRAFT = "draft"  # write it held, for a person to confirm (`broadcaster confirm`) or discard


class DraftState(StrEnum):
    """An update a monitor raised for a person to confirm (a check's or an alert's `draft` policy)."""

    WAITING = "waiting"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"


ALL_CHANNELS = tuple(ChannelKind)
