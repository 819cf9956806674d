"""What GOV.UK Notify's replies and lost connections mean for a delivery: fail, retry or reconcile.

Notify says to classify on the status code and error type, never on the message text
(notifications-tech-docs, source/documentation/error_tables/_generic_errors.md), so the
message only ever decorates a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import aiohttp
from pydantic import BaseModel, Field, ValidationError

from broadcaster.core.outcomes import Failed, Retry
from channels.retry_after import retry_after_seconds

RATE_LIMIT_WAIT_SECONDS = 2.0  # Notify sends no Retry-After; its bucket refills 50 tokens a second
_MAX_MESSAGE_CHARS = 160


class Action(Enum):
    FAIL = "fail"  # this message cannot be sent; the endpoint is fine
    FAIL_NEEDS_ATTENTION = "fail_needs_attention"  # the service or key needs a person
    RETRY = "retry"  # refused before anything happened: safe to send again later
    RETRY_AMBIGUOUS = "retry_ambiguous"  # may have been sent: reconcile by reference first


@dataclass(frozen=True, slots=True)
class ErrorRule:
    action: Action
    why: str


# (status, error type) -> action. Sources: notifications-tech-docs error_tables/_generic_errors.md,
# _send_a_text_message.md, _send_an_email.md; shared/reference/provider-apis.md section B2.
NOTIFY_ERRORS: dict[tuple[int, str], ErrorRule] = {
    (400, "ValidationError"): ErrorRule(Action.FAIL, "recipient or request rejected"),
    (400, "BadRequestError"): ErrorRule(
        Action.FAIL_NEEDS_ATTENTION, "service setup refused it (trial mode, key type, template)"
    ),
    (403, "AuthError"): ErrorRule(Action.FAIL_NEEDS_ATTENTION, "API key refused or clock more than 30 s out"),
    (429, "RateLimitError"): ErrorRule(Action.RETRY, "over the per-minute rate limit"),
    (429, "TooManyRequestsError"): ErrorRule(
        Action.FAIL_NEEDS_ATTENTION, "daily sending limit reached: no retry today"
    ),
    (500, "Exception"): ErrorRule(Action.RETRY_AMBIGUOUS, "Notify failed mid-request"),
}

# Error types not in the table, and bodies that are not Notify's (a proxy's 502 page).
FALLBACK_BY_STATUS: dict[int, ErrorRule] = {
    401: ErrorRule(Action.FAIL_NEEDS_ATTENTION, "not authenticated"),
    403: ErrorRule(Action.FAIL_NEEDS_ATTENTION, "not authorised"),
    429: ErrorRule(Action.RETRY, "throttled"),
}
_SERVER_ERROR = ErrorRule(Action.RETRY_AMBIGUOUS, "server error: it may have been sent")
_CLIENT_ERROR = ErrorRule(Action.FAIL_NEEDS_ATTENTION, "request refused: check the settings")


class NotifyError(BaseModel):
    error: str
    message: str = ""


class NotifyErrorBody(BaseModel):
    """`{"errors": [{"error": "AuthError", "message": "..."}], "status_code": 403}`."""

    errors: list[NotifyError] = Field(min_length=1)
    status_code: int | None = None


def parse_error_body(raw: bytes) -> NotifyError | None:
    try:
        return NotifyErrorBody.model_validate_json(raw).errors[0]
    except ValidationError:
        return None


def rule_for(status: int, error_type: str | None) -> ErrorRule:
    rule = NOTIFY_ERRORS.get((status, error_type or "")) or FALLBACK_BY_STATUS.get(status)
    if rule is not None:
        return rule
    return _SERVER_ERROR if status >= 500 else _CLIENT_ERROR


def classify_error_reply(status: int, body: bytes, headers: Mapping[str, str]) -> Retry | Failed:
    """Turn a non-2xx reply into an outcome; the reason names status, type and Notify's message."""
    error = parse_error_body(body)
    error_type = error.error if error else None
    rule = rule_for(status, error_type)
    reason = f"notify {status} {error_type or 'error'}: {rule.why}"
    if error and error.message:
        reason += f" ({error.message[:_MAX_MESSAGE_CHARS]})"
    hint = retry_after_seconds(headers)
    if rule.action is Action.FAIL:
        return Failed(reason)
    if rule.action is Action.FAIL_NEEDS_ATTENTION:
        return Failed(reason, needs_attention=True)
    if rule.action is Action.RETRY:
        return Retry(reason, after=RATE_LIMIT_WAIT_SECONDS if hint is None else hint)
    return Retry(reason, after=hint, ambiguous=True)


def classify_transport_error(exc: aiohttp.ClientError | TimeoutError) -> Retry:
    """No reply: plain retry if the request never left, ambiguous once it may have arrived."""
    name = type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return Retry(f"notify unreachable, nothing sent: {name}")
    return Retry(f"notify connection lost after sending: {name}", ambiguous=True)
