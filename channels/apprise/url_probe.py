"""Whether an apprise URL would be understood: apprise parses it (scheme and fields); nothing sent."""

from __future__ import annotations

import asyncio

import apprise

from broadcaster.core.provider_spec import ProbeContext, Readiness
from channels.apprise.channel import PHONE_PLACEHOLDER, REDACTOR
from channels.apprise.spec import SMS_APPRISE

_SAMPLE_NUMBER = "+447700900000"  # Ofcom's drama range: parsed, never sent to


async def probe_apprise_url(route: str, ctx: ProbeContext) -> Readiness:
    if not ctx.credential_ref:
        return Readiness(False, "no apprise URL secret is named for this endpoint")
    url = ctx.secrets(ctx.credential_ref)
    REDACTOR.register(url)  # apprise logs what it cannot parse in the clear
    name = ctx.credential_ref
    if route == SMS_APPRISE:
        if PHONE_PLACEHOLDER not in url:
            return Readiness(False, f"the apprise URL in secret {name!r} has no {{phone}}")
        url = url.replace(PHONE_PLACEHOLDER, _SAMPLE_NUMBER)
    if not await asyncio.to_thread(_parses, url):  # apprise's plugin look-up is blocking work
        return Readiness(False, f"the apprise URL in secret {name!r} cannot be parsed (scheme or fields)")
    return Readiness(True, f"the apprise URL in secret {name!r} is understood")


def _parses(url: str) -> bool:
    return bool(apprise.Apprise().add(url))
