"""Whether a page token would post now: Graph's `debug_token` on it, read for validity, expiry and scopes.

Source: developers.facebook.com/docs/graph-api/reference/debug_token (`data.is_valid`,
`expires_at` with 0 for never, `scopes`, `type`, and `error` when not valid) and the access
token guide's subcodes (458 app removed, 460 password changed, 463 expired, 467 invalid).
"""

from __future__ import annotations

import aiohttp
from pydantic import BaseModel, ValidationError

from broadcaster.core.provider_spec import ProbeContext, Readiness
from channels.facebook.errors import parse_graph_error
from channels.facebook.spec import GRAPH_SETTINGS

# Posting and editing a post's first line need this; Meta drops it from a token when a page
# admin removes the app's access, and the next post would fail with code 200.
REQUIRED_SCOPES = ("pages_manage_posts",)
_SUBCODE_REASONS = {
    458: "page token revoked: the app was removed from the page",
    460: "page token revoked: the password of its user was changed",
    463: "page token expired",
    467: "page token is not valid",
}
_DAY = 86400.0


class _TokenError(BaseModel):
    code: int | None = None
    subcode: int | None = None
    message: str = ""


class _TokenData(BaseModel):
    is_valid: bool
    type: str | None = None
    expires_at: int = 0  # seconds since the epoch; 0: never expires
    scopes: list[str] = []
    error: _TokenError | None = None


class _DebugReply(BaseModel):
    data: _TokenData


async def probe_page_token(ctx: ProbeContext) -> Readiness:
    """Ask Graph about the page's token with the token itself (or the app's token when set)."""
    settings = GRAPH_SETTINGS.of(ctx.settings)
    if not ctx.credential_ref:
        return Readiness(False, "no page token is named for this page")
    token = ctx.secrets(ctx.credential_ref)
    access = settings.app_access_token.get_secret_value() if settings.app_access_token else token
    url = f"{settings.base_url.rstrip('/')}/{settings.api_version}/debug_token"
    try:
        async with ctx.http_session().get(
            url,
            params={"input_token": token},
            headers={"Authorization": f"Bearer {access}"},  # the checking token stays out of the URL
            timeout=aiohttp.ClientTimeout(total=settings.timeout_seconds),
        ) as response:
            raw, status = await response.read(), response.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Readiness(False, f"Graph did not answer ({type(exc).__name__})")
    if status != 200:
        error = parse_graph_error(raw)
        if error is None:
            return Readiness(False, f"Graph answered HTTP {status}")
        reason = _SUBCODE_REASONS.get(error.error_subcode or 0, "page token refused by Graph")
        return Readiness(False, f"{reason} (code {error.code}): {error.message}")
    try:
        data = _DebugReply.model_validate_json(raw).data
    except ValidationError:
        return Readiness(False, "Graph's debug_token reply could not be read")
    return _judge(data, now=ctx.now(), warning_days=settings.token_expiry_warning_days)


def _judge(data: _TokenData, *, now: float, warning_days: int) -> Readiness:
    if not data.is_valid:
        error = data.error or _TokenError()
        reason = _SUBCODE_REASONS.get(error.subcode or 0, "page token is not valid")
        return Readiness(False, f"{reason}: {error.message}" if error.message else reason)
    if data.type is not None and data.type != "PAGE":
        return Readiness(False, f"the token is a {data.type.lower()} token, not a page token")
    if missing := [scope for scope in REQUIRED_SCOPES if scope not in data.scopes]:
        return Readiness(False, f"missing {', '.join(missing)}")
    return _judge_expiry(data, now=now, warning_days=warning_days)


def _judge_expiry(data: _TokenData, *, now: float, warning_days: int) -> Readiness:
    if data.expires_at == 0:
        return Readiness(True, "page token valid, does not expire")
    left = data.expires_at - now
    if left <= 0:
        return Readiness(False, "page token expired")
    expires = f"page token expires in {_days(left)}"
    if left < warning_days * _DAY:
        return Readiness(False, expires)
    return Readiness(True, f"page token valid, {expires[len('page token ') :]}")


def _days(seconds: float) -> str:
    days = int(seconds // _DAY)
    if days == 0:
        hours = max(1, int(seconds // 3600))
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"
