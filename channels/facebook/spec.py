"""Facebook Pages through the Graph API: route, settings (BROADCASTER_GRAPH__*) and factory."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, SecretStr

from broadcaster.core.models import ChannelKind
from broadcaster.core.provider_spec import (
    BuildContext,
    BuiltChannel,
    Credential,
    ProbeContext,
    ProviderLimits,
    ProviderSpec,
    Readiness,
    SettingsSection,
)
from broadcaster.core.setting_types import PositiveFloat, PositiveInt

FACEBOOK_GRAPH = "facebook/graph"

# The long-standing, widely cited cap of the post composer; Meta's Graph API reference does not
# state one (see broadcaster.content.channel_limits, which applies it to every Facebook route).
GRAPH_POST_MAX_CHARS = 63206


class GraphSettings(BaseModel):
    """Facebook Graph API, called directly with aiohttp (apprise has no Page support)."""

    base_url: str = "https://graph.facebook.com"
    api_version: Annotated[str, Field(pattern=r"^v\d+\.\d+$")] = "v26.0"
    concurrency: PositiveInt = 16  # Meta: 10-20 in flight across pages is safe
    timeout_seconds: PositiveFloat = 15.0
    reconcile_feed_limit: PositiveInt = 25
    # `broadcaster readiness`: a page token expiring sooner than this is reported not ready.
    token_expiry_warning_days: PositiveInt = 7
    # Asks debug_token about each page token; unset, each token is asked about itself.
    app_access_token: SecretStr | None = None


GRAPH_SETTINGS = SettingsSection("graph", GraphSettings)


def _build(ctx: BuildContext) -> BuiltChannel:
    from channels.facebook.page_channel import FacebookPageChannel  # noqa: PLC0415  # aiohttp on first use

    settings = GRAPH_SETTINGS.of(ctx.settings)
    channel = FacebookPageChannel(settings=settings, session=ctx.http_session(), secrets=ctx.secrets)
    return BuiltChannel(channel, settings.concurrency)


async def _probe(ctx: ProbeContext) -> Readiness:
    from channels.facebook.token_probe import probe_page_token  # noqa: PLC0415  # aiohttp on first use

    return await probe_page_token(ctx)


FACEBOOK_GRAPH_SPEC = ProviderSpec(
    route=FACEBOOK_GRAPH,
    kind=ChannelKind.FACEBOOK,
    provider="graph",
    build=_build,
    section=GRAPH_SETTINGS,
    credential=Credential(field="facebook.token"),
    limits=ProviderLimits(body_max_chars=GRAPH_POST_MAX_CHARS),
    probe=_probe,
)
