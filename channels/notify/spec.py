"""GOV.UK Notify for texts and emails: routes, settings (BROADCASTER_NOTIFY__*) and factories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, SecretStr

from broadcaster.core.models import ChannelKind
from broadcaster.core.provider_spec import (
    BuildContext,
    BuiltChannel,
    ProbeContext,
    ProviderLimits,
    ProviderSpec,
    Readiness,
    SettingsSection,
)
from broadcaster.core.setting_types import PositiveFloat, PositiveInt

if TYPE_CHECKING:
    from channels.request_pacer import RequestPacer

SMS_NOTIFY = "sms/notify"
EMAIL_NOTIFY = "email/notify"

# notifications-utils SMS_CHAR_COUNT_LIMIT (153 x 6); broadcaster.content.sms_text applies it
# to every text, whichever provider sends it.
NOTIFY_SMS_MAX_CHARS = 918


class NotifySettings(BaseModel):
    """GOV.UK Notify REST API: free text goes through one `((body))` template per channel."""

    base_url: str = "https://api.notifications.service.gov.uk"
    api_key: SecretStr | None = None
    sms_template_id: str | None = None
    email_template_id: str | None = None
    sms_sender_id: str | None = None
    email_reply_to_id: str | None = None
    # In flight at once. Notify's own limit is its rate (paced below), not connections: 40 keeps
    # that rate even at a few hundred ms per request.
    concurrency: PositiveInt = 40
    requests_per_minute: PositiveInt = 3000  # Notify's per-key limit; we pace below it
    timeout_seconds: PositiveFloat = 15.0


NOTIFY_SETTINGS = SettingsSection("notify", NotifySettings)


def _build_sms(ctx: BuildContext) -> BuiltChannel:
    from channels.notify.channels import NotifySmsChannel  # noqa: PLC0415  # aiohttp on first use

    settings = NOTIFY_SETTINGS.of(ctx.settings)
    channel = NotifySmsChannel(settings=settings, session=ctx.http_session(), pacer=_pacer(ctx))
    return BuiltChannel(channel, settings.concurrency)


def _build_email(ctx: BuildContext) -> BuiltChannel:
    from channels.notify.channels import NotifyEmailChannel  # noqa: PLC0415  # aiohttp on first use

    settings = NOTIFY_SETTINGS.of(ctx.settings)
    channel = NotifyEmailChannel(settings=settings, session=ctx.http_session(), pacer=_pacer(ctx))
    return BuiltChannel(channel, settings.concurrency)


def _pacer(ctx: BuildContext) -> RequestPacer:
    from channels.request_pacer import RequestPacer  # noqa: PLC0415

    per_minute = NOTIFY_SETTINGS.of(ctx.settings).requests_per_minute
    # Notify's rate limit is per key: texts and emails share one pacer.
    return ctx.shared("notify_pacer", lambda: RequestPacer(per_minute=per_minute))


async def _probe(ctx: ProbeContext) -> Readiness:
    from channels.notify.key_probe import probe_notify_key  # noqa: PLC0415  # aiohttp on first use

    return await probe_notify_key(ctx)


SMS_NOTIFY_SPEC = ProviderSpec(
    route=SMS_NOTIFY,
    kind=ChannelKind.SMS,
    provider="notify",
    build=_build_sms,
    section=NOTIFY_SETTINGS,
    required=("api_key", "sms_template_id"),
    limits=ProviderLimits(body_max_chars=NOTIFY_SMS_MAX_CHARS),
    probe=_probe,
)
EMAIL_NOTIFY_SPEC = ProviderSpec(
    route=EMAIL_NOTIFY,
    kind=ChannelKind.EMAIL,
    provider="notify",
    build=_build_email,
    section=NOTIFY_SETTINGS,
    required=("api_key", "email_template_id"),
    probe=_probe,
)
