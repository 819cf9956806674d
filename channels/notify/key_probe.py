"""Whether GOV.UK Notify would take the API key now: one authenticated read, nothing sent.

It asks for a notification id that cannot exist: a valid key gets 404 (no result), a wrong,
revoked or unknown key gets 403 AuthError (docs.notifications.service.gov.uk/rest-api.html,
"Error codes"). Listing notifications would answer the same, but with recipients' numbers.
"""

from __future__ import annotations

import time

import aiohttp
from pydantic import BaseModel, ValidationError

from broadcaster.core.provider_spec import ProbeContext, Readiness
from channels.notify.auth import authorization_header, parse_api_key
from channels.notify.spec import NOTIFY_SETTINGS

NO_SUCH_NOTIFICATION = "00000000-0000-4000-8000-000000000000"


class _Error(BaseModel):
    error: str = ""
    message: str = ""


class _ErrorBody(BaseModel):
    errors: list[_Error]


async def probe_notify_key(ctx: ProbeContext) -> Readiness:
    settings = NOTIFY_SETTINGS.of(ctx.settings)
    if settings.api_key is None:
        return Readiness(False, "notify.api_key is not set")
    credentials = parse_api_key(settings.api_key.get_secret_value())  # ConfigError: not a key
    url = f"{settings.base_url.rstrip('/')}/v2/notifications/{NO_SUCH_NOTIFICATION}"
    headers = {"Authorization": authorization_header(credentials, time.time)}
    try:
        async with ctx.http_session().get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=settings.timeout_seconds)
        ) as response:
            raw, status = await response.read(), response.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Readiness(False, f"Notify did not answer ({type(exc).__name__})")
    if status in (200, 404):
        return Readiness(True, "Notify API key accepted")
    try:
        errors = _ErrorBody.model_validate_json(raw).errors
    except ValidationError:
        errors = []
    said = f": {errors[0].message}" if errors and errors[0].message else ""
    if status in (401, 403):
        return Readiness(False, f"Notify refused the API key ({status}){said}")
    return Readiness(False, f"Notify answered HTTP {status}{said}")
