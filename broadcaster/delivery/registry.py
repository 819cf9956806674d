"""Where the core meets the concrete channel adapters: build one per provider route in use."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import aiohttp

from broadcaster.config.secret_refs import SecretLookup
from broadcaster.config.settings import Settings
from broadcaster.core.channel_contract import Channel
from broadcaster.core.errors import ConfigError
from channels.apprise_channel import AppriseChannel
from channels.email.smtp import SmtpEmailChannel
from channels.facebook.page_channel import FacebookPageChannel
from channels.notify.channels import NotifyEmailChannel, NotifySmsChannel
from channels.outbox_folder import OutboxFolderChannel
from channels.request_pacer import RequestPacer

KNOWN_ROUTES = (
    "facebook/graph",
    "facebook/outbox",
    "sms/notify",
    "sms/apprise",
    "sms/outbox",
    "email/smtp",
    "email/notify",
    "email/outbox",
    "apprise/apprise",
)


@dataclass
class ChannelSet:
    """The adapters for a run, their concurrency limits, and the resources they share."""

    channels: dict[str, Channel] = field(default_factory=dict)
    concurrency: dict[str, int] = field(default_factory=dict)
    session: aiohttp.ClientSession | None = None
    executor: ThreadPoolExecutor | None = None
    notify_pacer: RequestPacer | None = None  # Notify's rate limit is per key: texts and emails share it

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
        if self.session is not None:
            await self.session.close()
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)


def build_channels(settings: Settings, routes: Iterable[str]) -> ChannelSet:
    """Adapters for exactly the routes in use; a route whose settings are missing fails here."""
    built = ChannelSet()
    secrets = SecretLookup(settings.secrets)
    for route in sorted(set(routes)):
        if route not in KNOWN_ROUTES:
            raise ConfigError(f"unknown channel route {route!r}; known: {', '.join(KNOWN_ROUTES)}")
        built.channels[route], built.concurrency[route] = _build(route, settings, secrets, built)
    return built


def _session(built: ChannelSet) -> aiohttp.ClientSession:
    if built.session is None:
        # One pool for every HTTP provider; the per-route semaphores bound what is in flight.
        built.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    return built.session


def _executor(settings: Settings, built: ChannelSet) -> ThreadPoolExecutor:
    if built.executor is None:
        built.executor = ThreadPoolExecutor(
            max_workers=settings.apprise.threads, thread_name_prefix="apprise"
        )
    return built.executor


def _build(route: str, settings: Settings, secrets: SecretLookup, built: ChannelSet) -> tuple[Channel, int]:
    kind, provider = route.split("/")
    if provider == "outbox":
        channel: Channel = OutboxFolderChannel(
            route=route,
            root=settings.outbox_dir,
            message_id_domain=settings.smtp.message_id_domain,
            from_address=settings.smtp.from_address,
            from_name=settings.smtp.from_name,
        )
        return channel, settings.dispatch.outbox_concurrency
    if route == "facebook/graph":
        return FacebookPageChannel(
            settings=settings.graph, session=_session(built), secrets=secrets
        ), settings.graph.concurrency
    if route in ("sms/notify", "email/notify"):
        if built.notify_pacer is None:
            built.notify_pacer = RequestPacer(per_minute=settings.notify.requests_per_minute)
        notify_class = NotifySmsChannel if kind == "sms" else NotifyEmailChannel
        notify: Channel = notify_class(
            settings=settings.notify, session=_session(built), pacer=built.notify_pacer
        )
        return notify, settings.notify.concurrency
    if route == "email/smtp":
        return SmtpEmailChannel(settings=settings.smtp), settings.smtp.connections
    # sms/apprise and apprise/apprise: apprise runs in the thread pool we own.
    return AppriseChannel(
        route=route, settings=settings.apprise, secrets=secrets, executor=_executor(settings, built)
    ), settings.apprise.threads
