"""Email over SMTP: route, settings (BROADCASTER_SMTP__*) and factory."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, SecretStr

from broadcaster.core.models import ChannelKind
from broadcaster.core.provider_spec import (
    BuildContext,
    BuiltChannel,
    ProbeContext,
    ProviderSpec,
    Readiness,
    SettingsSection,
)
from broadcaster.core.setting_types import Port, PositiveFloat, PositiveInt

EMAIL_SMTP = "email/smtp"


class SmtpSettings(BaseModel):
    host: str = "localhost"
    port: Port = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = "incident-alerts@broadcaster.invalid"
    from_name: str = "Practice incident alerts"
    message_id_domain: str = "broadcaster.invalid"
    # Long-lived SMTP sessions, each sending messages in turn: 8 sends an ICB's 400 emails in
    # about 5 s at 100 ms a message, and stays well under relays' per-client session limits.
    connections: PositiveInt = 8
    timeout_seconds: PositiveFloat = 30.0


SMTP_SETTINGS = SettingsSection("smtp", SmtpSettings)


def _build(ctx: BuildContext) -> BuiltChannel:
    from channels.email.smtp import SmtpEmailChannel  # noqa: PLC0415  # aiosmtplib on first use

    settings = SMTP_SETTINGS.of(ctx.settings)
    return BuiltChannel(SmtpEmailChannel(settings=settings), settings.connections)


async def _probe(ctx: ProbeContext) -> Readiness:
    from channels.email.login_probe import probe_smtp_login  # noqa: PLC0415  # aiosmtplib on first use

    return await probe_smtp_login(ctx)


# No limits of its own: the caps on an email are ours (broadcaster.content.channel_limits).
EMAIL_SMTP_SPEC = ProviderSpec(
    route=EMAIL_SMTP,
    kind=ChannelKind.EMAIL,
    provider="smtp",
    build=_build,
    section=SMTP_SETTINGS,
    probe=_probe,
)
