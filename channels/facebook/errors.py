"""What a Graph API error means for a delivery: parse the body, look its code up, pick an outcome.

Meta answers almost every failure, throttling and policy blocks included, with HTTP 400 and an
error object, so `error.code` / `error_subcode` decide here, never the HTTP status:

    GraphAction
     +-- SERVER_ERROR   1, 2: Meta-side fault; a create may have landed -> ambiguous Retry
     +-- THROTTLED      4, 17, 32, 341, 613, 80001: rejected unprocessed -> Retry after the hint
     +-- REAUTH         190 (any subcode), 102: the page token is dead -> Failed, needs attention
     +-- PERMISSION     10, 200-299: page role or app permission gone -> Failed, needs attention
     +-- CAPABILITY     3: the app may not make this call -> Failed, needs attention
     +-- INVALID        100: our request is wrong -> Failed
     +-- POLICY_BLOCK   368: Meta says wait -> slow Retry; "already posted" wording -> ambiguous
     +-- DUPLICATE      506: Meta refused a duplicate, so it is probably posted -> ambiguous Retry
     (any other code)   Failed, with the code in the reason
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, TypeAdapter, ValidationError

from broadcaster.core.outcomes import Failed, Retry
from channels.retry_after import MAX_HINT_SECONDS, retry_after_seconds


class GraphError(BaseModel):
    """The `error` object of a Graph reply.

    Source: developers.facebook.com/docs/graph-api/guides/error-handling
    """

    message: str = ""
    type: str = ""
    code: int
    error_subcode: int | None = None
    fbtrace_id: str | None = None
    is_transient: bool | None = None  # undocumented, a hint only


class _GraphErrorBody(BaseModel):
    error: GraphError


def parse_graph_error(raw: bytes) -> GraphError | None:
    """The error object of a reply body, or None when the body is not a Graph error."""
    try:
        return _GraphErrorBody.model_validate_json(raw).error
    except ValidationError:
        return None


class GraphAction(StrEnum):
    SERVER_ERROR = "server_error"
    THROTTLED = "throttled"
    REAUTH = "reauth"
    PERMISSION = "permission"
    CAPABILITY = "capability"
    INVALID = "invalid"
    POLICY_BLOCK = "policy_block"
    DUPLICATE = "duplicate"


# Codes and Meta's "what to do": the Graph error-handling guide. Grouping as in Meta's own old
# SDK (facebookarchive/php-graph-sdk FacebookResponseException.php: 1,2 server; 4,17,341
# throttle; 10,200-299 authorization; 190,102 authentication); 32: php-graph-sdk#634; 613, 80001:
# the rate-limiting guide; 368, 506: postiz-app#2068, koala#422. See provider-apis.md §A3.
GRAPH_ERROR_ACTIONS: Mapping[int, GraphAction] = MappingProxyType(
    {
        1: GraphAction.SERVER_ERROR,
        2: GraphAction.SERVER_ERROR,
        4: GraphAction.THROTTLED,
        17: GraphAction.THROTTLED,
        32: GraphAction.THROTTLED,
        341: GraphAction.THROTTLED,
        613: GraphAction.THROTTLED,
        80001: GraphAction.THROTTLED,
        190: GraphAction.REAUTH,
        102: GraphAction.REAUTH,
        10: GraphAction.PERMISSION,
        **dict.fromkeys(range(200, 300), GraphAction.PERMISSION),
        3: GraphAction.CAPABILITY,
        100: GraphAction.INVALID,
        368: GraphAction.POLICY_BLOCK,
        506: GraphAction.DUPLICATE,
    }
)

# What a person must do, by 190 subcode (Meta's access-token error-handling guide).
TOKEN_PROBLEMS: Mapping[int, str] = MappingProxyType(
    {
        458: "the app was removed from the page admin's account - reconnect it, new page token",
        459: "the page admin's account is checkpointed - they log in, then get a new page token",
        460: "page token invalidated by a password change - get a new page token",
        463: "page token expired - get a new page token",
        464: "the page admin's account is unconfirmed - confirm it, then get a new page token",
        467: "page token invalid - get a new page token",
    }
)
ATTENTION_PROBLEMS: Mapping[GraphAction, str] = MappingProxyType(
    {
        GraphAction.REAUTH: "page token invalid or expired - get a new page token",
        GraphAction.PERMISSION: "page permission missing or removed - check the page role and the "
        "app's pages_manage_posts / pages_manage_engagement permissions",
        GraphAction.CAPABILITY: "the app may not make this call - check permissions and App Review",
    }
)
POLICY_BLOCK_WAIT_SECONDS = 300.0  # Meta only says "wait"; posting fast again risks a longer block
USAGE_EXHAUSTED_WAIT_SECONDS = 60.0  # usage at 100% with no estimate: Meta gives no figure
_ALREADY_POSTED = re.compile(r"already posted|duplicate", re.IGNORECASE)
_MAX_MESSAGE_CHARS = 200


def describe(error: GraphError) -> str:
    """A reason fragment: code, subcode, Meta's words, and the fbtrace_id Meta support asks for."""
    code = f"{error.code}/{error.error_subcode}" if error.error_subcode else str(error.code)
    trace = f" (fbtrace_id {error.fbtrace_id})" if error.fbtrace_id else ""
    return f"graph error {code} {error.type}: {error.message[:_MAX_MESSAGE_CHARS]}{trace}"


def classify_graph_error(error: GraphError, *, creates: bool, hint: float | None) -> Retry | Failed:
    """The outcome of a Graph error; `creates` is True for a POST that makes a post or comment."""
    action = GRAPH_ERROR_ACTIONS.get(error.code)
    if action in _RETRYABLE:
        return _retry(action, error, creates=creates, hint=hint)
    return _failure(action, error)


_RETRYABLE = frozenset(
    {
        GraphAction.SERVER_ERROR,
        GraphAction.THROTTLED,
        GraphAction.POLICY_BLOCK,
        GraphAction.DUPLICATE,
    }
)


def _retry(action: GraphAction, error: GraphError, *, creates: bool, hint: float | None) -> Retry:
    what = describe(error)
    if action is GraphAction.THROTTLED:
        return Retry(reason=f"throttled: {what}", after=hint)
    if action is GraphAction.POLICY_BLOCK:
        posted = creates and bool(_ALREADY_POSTED.search(error.message))
        slowly = max(hint or 0.0, POLICY_BLOCK_WAIT_SECONDS)
        return Retry(reason=f"blocked for now: {what}", after=slowly, ambiguous=posted)
    if action is GraphAction.DUPLICATE:
        return Retry(reason=f"probably already posted: {what}", after=hint, ambiguous=creates)
    return Retry(reason=what, after=hint, ambiguous=creates)


def _failure(action: GraphAction | None, error: GraphError) -> Failed:
    what = describe(error)
    if action is None:
        return Failed(reason=f"unexpected {what}")
    if action not in ATTENTION_PROBLEMS:
        return Failed(reason=what)
    problem = ATTENTION_PROBLEMS[action]
    if action is GraphAction.REAUTH and error.error_subcode is not None:
        problem = TOKEN_PROBLEMS.get(error.error_subcode, problem)
    return Failed(reason=f"needs attention: {problem} ({what})", needs_attention=True)


def classify_unreadable_reply(status: int, *, creates: bool, hint: float | None) -> Retry | Failed:
    """A reply with no Graph error object (a proxy's 502 page, a truncated body)."""
    if status >= 500 or status == 429:
        return Retry(reason=f"graph answered HTTP {status}", after=hint, ambiguous=creates)
    return Failed(reason=f"graph answered HTTP {status} without an error object")


class _BucEntry(BaseModel):
    estimated_time_to_regain_access: float = 0.0  # minutes


class _Usage(BaseModel):
    call_count: float = 0.0  # percentages of the quota
    total_cputime: float = 0.0
    total_time: float = 0.0


_BUC_HEADER = TypeAdapter(dict[str, list[_BucEntry]])


def throttle_hint_seconds(headers: Mapping[str, str], *, object_id: str) -> float | None:
    """How long Meta asks us to wait (usage headers, then Retry-After); None when it says nothing.

    Source: developers.facebook.com/docs/graph-api/overview/rate-limiting. The BUC header is keyed
    by business object (the page id); its estimate is in minutes and may be fractional.
    """
    minutes = _buc_minutes(headers.get("X-Business-Use-Case-Usage"), object_id)
    if minutes:
        return min(minutes * 60.0, MAX_HINT_SECONDS)
    after = retry_after_seconds(headers)
    if after is not None:
        return after
    for name in ("X-App-Usage", "X-Page-Usage"):
        if _usage_exhausted(headers.get(name)):
            return USAGE_EXHAUSTED_WAIT_SECONDS
    return None


def _buc_minutes(raw: str | None, object_id: str) -> float:
    if not raw:
        return 0.0
    try:
        usage = _BUC_HEADER.validate_json(raw)
    except ValidationError:
        return 0.0
    entries = usage.get(object_id) or [e for page in usage.values() for e in page]
    return max((e.estimated_time_to_regain_access for e in entries), default=0.0)


def _usage_exhausted(raw: str | None) -> bool:
    if not raw:
        return False
    try:
        usage = _Usage.model_validate_json(raw)
    except ValidationError:
        return False
    return max(usage.call_count, usage.total_cputime, usage.total_time) >= 100.0
