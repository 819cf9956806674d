"""The outbox folder, one route per channel: what the example directory and drills send through."""

from __future__ import annotations

from broadcaster.core.models import ChannelKind
from broadcaster.core.provider_spec import BuildContext, BuiltChannel, ProviderSpec
from channels.email.spec import SMTP_SETTINGS

FACEBOOK_OUTBOX = "facebook/outbox"
SMS_OUTBOX = "sms/outbox"
EMAIL_OUTBOX = "email/outbox"
APPRISE_OUTBOX = "apprise/outbox"  # only drills use it: a directory names no apprise provider


def _build(route: str, ctx: BuildContext) -> BuiltChannel:
    from broadcaster.config.settings import CoreSettings  # noqa: PLC0415  # config reads this module
    from channels.outbox.folder import OutboxFolderChannel  # noqa: PLC0415

    settings = ctx.settings
    if not isinstance(settings, CoreSettings):
        raise TypeError("the outbox needs the service's Settings")
    smtp = SMTP_SETTINGS.of(settings)  # its emails look like the ones SMTP would send
    channel = OutboxFolderChannel(
        route=route,
        root=settings.outbox_dir,
        message_id_domain=smtp.message_id_domain,
        from_address=smtp.from_address,
        from_name=smtp.from_name,
    )
    return BuiltChannel(channel, settings.dispatch.outbox_concurrency)


# No settings section of its own (BROADCASTER_OUTBOX_DIR and DISPATCH__OUTBOX_CONCURRENCY are
# the service's), no secret needed and no limits: it stands in for the providers it replaces.
FACEBOOK_OUTBOX_SPEC = ProviderSpec(
    route=FACEBOOK_OUTBOX,
    kind=ChannelKind.FACEBOOK,
    provider="outbox",
    build=lambda ctx: _build(FACEBOOK_OUTBOX, ctx),
)
SMS_OUTBOX_SPEC = ProviderSpec(
    route=SMS_OUTBOX,
    kind=ChannelKind.SMS,
    provider="outbox",
    build=lambda ctx: _build(SMS_OUTBOX, ctx),
)
EMAIL_OUTBOX_SPEC = ProviderSpec(
    route=EMAIL_OUTBOX,
    kind=ChannelKind.EMAIL,
    provider="outbox",
    build=lambda ctx: _build(EMAIL_OUTBOX, ctx),
)
APPRISE_OUTBOX_SPEC = ProviderSpec(
    route=APPRISE_OUTBOX,
    kind=ChannelKind.APPRISE,
    provider="outbox",
    build=lambda ctx: _build(APPRISE_OUTBOX, ctx),
)
