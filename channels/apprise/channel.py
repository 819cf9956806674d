"""Any apprise URL as a channel: sent from a thread pool we own, with apprise's own retries off."""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from urllib.parse import unquote

import apprise

from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.errors import ConfigError
from broadcaster.core.models import IncidentStatus
from broadcaster.core.outcomes import Delivered, Failed, NotFound, ReconcileResult, Retry, SendResult
from broadcaster.core.provider_spec import SecretSource
from channels.apprise.spec import SMS_APPRISE, AppriseSettings

PHONE_PLACEHOLDER = "{phone}"

# apprise 2.x hides the HTTP status: it survives only in its plugins' log text, e.g.
# "Failed to send JSON POST notification: error=429." (apprise/plugins/*.py).
_STATUS_IN_LOG = re.compile(r"\berror=(\d{3})\b")
RETRYABLE_4XX = frozenset({408, 429})  # request timeout, rate limited: the provider did not act
ATTENTION_4XX = frozenset({401, 403, 404})  # the credentials or the endpoint itself are wrong
_URL_PIECES = re.compile(r"[^:/@?&=#,]+")  # user, password, host, path and query pieces
_MIN_SECRET_PIECE = 4  # shorter pieces ("sms", "443") would shred ordinary words


class AppriseLogRedactor(logging.Filter):
    """Hides every piece of our apprise URLs from apprise's own log lines.

    apprise logs what it cannot use in the clear ("An invalid Twilio Authentication Token
    (<token>) was specified."), and any piece of an apprise URL may be a credential.
    """

    def __init__(self) -> None:
        super().__init__()
        self._urls: set[str] = set()
        self._pieces: list[str] = []

    def register(self, url: str) -> None:
        if url in self._urls:
            return
        self._urls.add(url)
        body = url.partition("://")[2] or url
        found = {p for raw in _URL_PIECES.findall(body) for p in (raw, unquote(raw))}
        known = {*self._pieces, url, *(p for p in found if len(p) >= _MIN_SECRET_PIECE)}
        # Longest first, so a piece that contains another is hidden whole.
        self._pieces = sorted(known, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        hidden = text
        for piece in self._pieces:
            hidden = hidden.replace(piece, "[redacted]")
        if hidden != text:
            record.msg, record.args = hidden, None
        return True


REDACTOR = AppriseLogRedactor()


class AppriseChannel:
    """Routes APPRISE_APPRISE and SMS_APPRISE: the URL is a secret named by credential_ref."""

    def __init__(
        self,
        *,
        route: str,
        settings: AppriseSettings,
        secrets: SecretSource,
        executor: ThreadPoolExecutor,
    ) -> None:
        self.route = route
        self._settings = settings
        self._secrets = secrets
        self._executor = executor  # the caller owns and sizes it (settings.threads)
        # Retries are tenacity's job, the deadline ours: apprise's own are a fixed wait that also
        # repeats permanent errors, and a deadline that counts queue time.
        self._asset = apprise.AppriseAsset(
            service_timeout=0,  # also makes notify() run in the calling (pool) thread
            storage_mode="memory",
            secure_logging=True,
            default_service_retry=0,
        )
        # On the "apprise" logger itself, so it also covers the copies kept in apprise's results.
        apprise_logger = logging.getLogger("apprise")
        if REDACTOR not in apprise_logger.filters:
            apprise_logger.addFilter(REDACTOR)

    async def send(self, message: OutgoingMessage) -> SendResult:
        url = self._url_for(message)
        if isinstance(url, Failed):
            return url
        job = partial(
            _notify_in_thread,
            asset=self._asset,
            url=url,
            title=message.content.subject or "",
            body=message.text,
            notify_type=_NOTIFY_TYPES.get(message.status, apprise.NotifyType.WARNING),
            secret_name=message.credential_ref or "",
        )
        future = asyncio.get_running_loop().run_in_executor(self._executor, job)
        try:
            return await asyncio.wait_for(future, self._settings.timeout_seconds)
        except TimeoutError:
            # Still queued: cancelled, never sent. Running: it may yet land (see reconcile).
            return Retry(f"apprise did not finish within {self._settings.timeout_seconds:g}s")

    def _url_for(self, message: OutgoingMessage) -> str | Failed:
        if not message.credential_ref:
            return Failed("no apprise URL secret is named for this endpoint", needs_attention=True)
        try:
            url = self._secrets(message.credential_ref)
        except ConfigError as exc:
            return Failed(str(exc), needs_attention=True)
        REDACTOR.register(url)
        if self.route == SMS_APPRISE:
            if PHONE_PLACEHOLDER not in url:
                reason = f"the apprise URL in secret {message.credential_ref!r} has no {{phone}}"
                return Failed(reason, needs_attention=True)
            url = url.replace(PHONE_PLACEHOLDER, message.recipient)
        return url

    async def reconcile(self, message: OutgoingMessage) -> ReconcileResult:
        # apprise can neither tag a request nor look one up, so its Retry results are never
        # `ambiguous`: a resend is the only option and may, rarely, duplicate.
        return NotFound()

    async def close(self) -> None:
        """Nothing to release: the executor belongs to the caller."""


_NOTIFY_TYPES = {IncidentStatus.RESOLVED: apprise.NotifyType.SUCCESS}


def _notify_in_thread(
    *,
    asset: apprise.AppriseAsset,
    url: str,
    title: str,
    body: str,
    notify_type: apprise.NotifyType,
    secret_name: str,
) -> SendResult:
    """Blocking: one Apprise object per send, because apprise objects are not thread-safe."""
    notifier = apprise.Apprise(asset=asset)
    if not notifier.add(url):
        reason = f"the apprise URL in secret {secret_name!r} cannot be parsed (scheme or fields)"
        return Failed(reason, needs_attention=True)
    result = notifier.notify(body=body, title=title, notify_type=notify_type, body_format="text")
    if result:
        return Delivered()
    return _classify_failure(result)


def _classify_failure(result: apprise.AppriseResult) -> SendResult:
    services = list(result)
    name = services[0].name if services else "apprise"
    statuses = [
        int(found)
        for service in services
        for entry in service.logs()
        for found in _STATUS_IN_LOG.findall(entry.message)
    ]
    if not statuses:
        return Retry(f"{name} notification failed without an HTTP status (connection problem?)")
    status = statuses[-1]
    reason = f"{name} answered HTTP {status}"
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return Failed(reason, needs_attention=status in ATTENTION_4XX)
    return Retry(reason)
