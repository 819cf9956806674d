"""What a channel adapter reports for one send: the only vocabulary between adapters and the dispatcher.

Adapters classify every remote outcome into one of these and never raise for one:

    SendResult
     +-- Delivered   the provider accepted the message (provider_id threads the next update)
     +-- Retry       try again later; `after` is the provider's own hint, `ambiguous` means the
     |               request may have been acted on, so the dispatcher reconciles before resending
     +-- Failed      retrying cannot help; `needs_attention` flags the endpoint (expired token...)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delivered:
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    reason: str  # never contains a secret
    after: float | None = None  # seconds, when the provider said so
    ambiguous: bool = False  # the request may have been acted on


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str  # never contains a secret
    needs_attention: bool = False  # the endpoint itself is broken (token expired, permission gone)


SendResult = Delivered | Retry | Failed


@dataclass(frozen=True, slots=True)
class NotFound:
    """Reconciliation found no trace of the earlier attempt: it is safe to send again."""


ReconcileResult = Delivered | NotFound | Retry
