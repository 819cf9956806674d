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

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({DeliveryState.DELIVERED, DeliveryState.FAILED})
ALL_CHANNELS = tuple(ChannelKind)
