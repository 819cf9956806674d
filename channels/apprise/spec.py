"""apprise: routes sms/apprise and apprise/apprise, settings (BROADCASTER_APPRISE__*), factory."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from broadcaster.core.models import ChannelKind
from broadcaster.core.provider_spec import (
    BuildContext,
    BuiltChannel,
    Credential,
    ProbeContext,
    ProviderSpec,
    Readiness,
    SettingsSection,
)
from broadcaster.core.setting_types import PositiveFloat, PositiveInt

SMS_APPRISE = "sms/apprise"
APPRISE_APPRISE = "apprise/apprise"


class AppriseSettings(BaseModel):
    threads: PositiveInt = 16  # the pool we own; apprise's shared pool is 6 and unsizeable
    timeout_seconds: PositiveFloat = 20.0


APPRISE_SETTINGS = SettingsSection("apprise", AppriseSettings)


def _build(route: str, ctx: BuildContext) -> BuiltChannel:
    from channels.apprise.channel import AppriseChannel  # noqa: PLC0415  # apprise takes ~0.5 s to import

    settings = APPRISE_SETTINGS.of(ctx.settings)
    channel = AppriseChannel(
        route=route,
        settings=settings,
        secrets=ctx.secrets,
        executor=ctx.thread_pool("apprise", settings.threads),  # both routes share it
    )
    return BuiltChannel(channel, settings.threads)


async def _probe(route: str, ctx: ProbeContext) -> Readiness:
    # Imported in a thread: apprise takes ~0.5 s to import, which would stall `serve`'s loop.
    module = await asyncio.to_thread(importlib.import_module, "channels.apprise.url_probe")
    probe: Callable[[str, ProbeContext], Awaitable[Readiness]] = module.probe_apprise_url
    return await probe(route, ctx)


# No limits: what the service behind a URL accepts varies; our caps apply (content.channel_limits).
SMS_APPRISE_SPEC = ProviderSpec(
    route=SMS_APPRISE,
    kind=ChannelKind.SMS,
    provider="apprise",
    build=lambda ctx: _build(SMS_APPRISE, ctx),
    section=APPRISE_SETTINGS,
    credential=Credential(field="sms.apprise_url", given_in="in the practice or in defaults.sms_apprise_url"),
    probe=lambda ctx: _probe(SMS_APPRISE, ctx),
)
APPRISE_APPRISE_SPEC = ProviderSpec(
    route=APPRISE_APPRISE,
    kind=ChannelKind.APPRISE,
    provider="apprise",
    build=lambda ctx: _build(APPRISE_APPRISE, ctx),
    section=APPRISE_SETTINGS,
    credential=Credential(field="apprise"),
    probe=lambda ctx: _probe(APPRISE_APPRISE, ctx),
)
