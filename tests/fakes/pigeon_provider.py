"""A provider that does not ship, written as a new one would be: this module is all of it.

Route sms/pigeon posts each text as JSON to `BROADCASTER_PIGEON__BASE_URL`/messages with the key
from BROADCASTER_PIGEON__API_KEY. Registering it is one line in broadcaster.config.providers;
tests/test_provider_specs.py adds that line in a fresh process and sends through it.
"""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.models import ChannelKind
from broadcaster.core.outcomes import Delivered, Failed, NotFound, ReconcileResult, Retry, SendResult
from broadcaster.core.provider_spec import (
    BuildContext,
    BuiltChannel,
    ProviderLimits,
    ProviderSpec,
    SettingsSection,
)
from broadcaster.core.setting_types import PositiveInt

SMS_PIGEON = "sms/pigeon"


class PigeonSettings(BaseModel):
    base_url: str = "https://pigeon.invalid"
    api_key: SecretStr | None = None
    concurrency: PositiveInt = 4


PIGEON_SETTINGS = SettingsSection("pigeon", PigeonSettings)


class PigeonChannel:
    route = SMS_PIGEON

    def __init__(self, *, settings: PigeonSettings, context: BuildContext) -> None:
        assert settings.api_key is not None  # preflight refuses a send without it
        self._url = f"{settings.base_url.rstrip('/')}/messages"
        self._headers = {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}
        self._session = context.http_session()

    async def send(self, message: OutgoingMessage) -> SendResult:
        import aiohttp  # noqa: PLC0415  # as a shipped adapter would: not on the settings path

        body = {"to": message.recipient, "text": message.text}
        try:
            async with self._session.post(self._url, json=body, headers=self._headers) as reply:
                if reply.status == 201:
                    return Delivered(provider_id=str((await reply.json())["id"]))
                return Failed(f"pigeon refused the text: HTTP {reply.status}")
        except aiohttp.ClientError as exc:
            return Retry(f"pigeon unreachable: {type(exc).__name__}", ambiguous=True)

    async def reconcile(self, message: OutgoingMessage) -> ReconcileResult:
        return NotFound()

    async def close(self) -> None:
        return


def _build(ctx: BuildContext) -> BuiltChannel:
    settings = PIGEON_SETTINGS.of(ctx.settings)
    return BuiltChannel(PigeonChannel(settings=settings, context=ctx), settings.concurrency)


SMS_PIGEON_SPEC = ProviderSpec(
    route=SMS_PIGEON,
    kind=ChannelKind.SMS,
    provider="pigeon",
    build=_build,
    section=PIGEON_SETTINGS,
    required=("api_key",),
    limits=ProviderLimits(body_max_chars=1600),
)
