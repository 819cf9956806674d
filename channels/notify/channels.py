"""GOV.UK Notify text and email channels: its REST API over aiohttp, paced under its rate limit."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Literal, NamedTuple

import aiohttp
import structlog
from multidict import CIMultiDictProxy
from pydantic import BaseModel, ValidationError

from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.errors import ConfigError
from broadcaster.core.outcomes import Delivered, Failed, NotFound, ReconcileResult, Retry, SendResult
from channels.notify.auth import API_KEY_ENV, authorization_header, parse_api_key
from channels.notify.errors import classify_error_reply, classify_transport_error
from channels.notify.spec import EMAIL_NOTIFY, NOTIFY_SETTINGS, SMS_NOTIFY, NotifySettings
from channels.request_pacer import RequestPacer

TemplateType = Literal["sms", "email"]
Clock = Callable[[], float]
log = structlog.get_logger(__name__)


class _Reply(NamedTuple):
    status: int
    body: bytes
    headers: CIMultiDictProxy[str]


class _Created(BaseModel):
    id: str


class _Found(BaseModel):
    id: str
    reference: str | None = None


class _FoundPage(BaseModel):
    notifications: list[_Found]


class NotifyClient:
    """Creates and finds notifications with one API key, classifying every reply.

    Requests pass raise_for_status=False: a shared session may turn raising on, and an error
    reply must be classified, not mistaken for a lost connection.
    """

    def __init__(
        self,
        *,
        settings: NotifySettings,
        session: aiohttp.ClientSession,
        clock: Clock,
        pacer: RequestPacer,
    ) -> None:
        if settings.api_key is None:  # checked by the channels; kept for direct use
            raise ConfigError(f"GOV.UK Notify needs an API key: set {API_KEY_ENV}")
        self._credentials = parse_api_key(settings.api_key.get_secret_value())
        self._base_url = settings.base_url.rstrip("/")
        self._session = session
        self._clock = clock
        self._pacer = pacer
        self._timeout = aiohttp.ClientTimeout(total=settings.timeout_seconds)

    def _headers(self) -> dict[str, str]:
        # A token per request: Notify refuses one more than 30 s old.
        return {"Authorization": authorization_header(self._credentials, self._clock)}

    async def _call(self, method: str, path: str, **request: Any) -> _Reply:
        """One request with a fresh token; transport errors are left to the caller to classify."""
        async with self._session.request(
            method,
            f"{self._base_url}{path}",
            headers=self._headers(),
            timeout=self._timeout,
            raise_for_status=False,
            **request,
        ) as reply:
            return _Reply(reply.status, await reply.read(), reply.headers)

    async def create(self, kind: TemplateType, payload: dict[str, object], delivery: int) -> SendResult:
        # Only sends are paced: Notify states its limit in messages, and lookups are rare.
        await self._pacer.wait()
        try:
            reply = await self._call("POST", f"/v2/notifications/{kind}", json=payload)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return classify_transport_error(exc)
        body = reply.body
        if 200 <= reply.status < 300:
            try:
                return Delivered(provider_id=_Created.model_validate_json(body).id)
            except ValidationError:
                log.warning("notify_reply_unreadable", channel=kind, delivery=delivery, status=reply.status)
                return Delivered()  # accepted all the same; only the id is lost
        outcome = classify_error_reply(reply.status, body, reply.headers)
        log.info(
            "notify_refused",
            channel=kind,
            delivery=delivery,
            status=reply.status,
            reason=outcome.reason,
        )
        return outcome

    async def find_by_reference(self, kind: TemplateType, reference: str) -> ReconcileResult:
        """Delivered(id) if Notify holds a notification with this reference, NotFound if not."""
        query = {"reference": reference, "template_type": kind}
        try:
            reply = await self._call("GET", "/v2/notifications", params=query)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Retry(f"notify lookup failed: {type(exc).__name__}")
        body = reply.body
        if reply.status != 200:
            outcome = classify_error_reply(reply.status, body, reply.headers)
            return Retry(outcome.reason, after=outcome.after if isinstance(outcome, Retry) else None)
        try:
            found = _FoundPage.model_validate_json(body).notifications
        except ValidationError:
            return Retry("notify lookup reply unreadable")
        matches = [n.id for n in found if n.reference == reference]
        if not matches:
            return NotFound()
        if len(matches) > 1:
            log.warning("notify_duplicates_found", reference=reference, count=len(matches))
        return Delivered(provider_id=matches[-1])  # newest first: the last is the original


def notify_reference(message: OutgoingMessage) -> str:
    """What reconcile searches by; ids only, since Notify forbids personal data here."""
    return f"{message.incident_ref}:{message.update_seq}:{message.delivery_id}"


class _NotifyChannel(ABC):
    """What the text and email channels share: settings checks, reference, reconcile."""

    route: str  # set by each subclass; an instance attribute for the Channel protocol
    kind: ClassVar[TemplateType]
    template_setting: ClassVar[str]  # the NotifySettings field holding this channel's template id

    def __init__(
        self,
        *,
        settings: NotifySettings,
        session: aiohttp.ClientSession,
        clock: Clock = time.time,
        pacer: RequestPacer | None = None,
    ) -> None:
        template_id: str | None = getattr(settings, self.template_setting)
        template_env = NOTIFY_SETTINGS.env_name(self.template_setting)
        required = ((settings.api_key, API_KEY_ENV), (template_id, template_env))
        missing = [env for value, env in required if not value]
        if missing or template_id is None:
            raise ConfigError(
                f"GOV.UK Notify {self.kind} is not configured: set {' and '.join(missing)} "
                "(the key from the service's API integration page, the id from the template's page)"
            )
        self._template_id = template_id
        self._settings = settings
        # Notify's limit is per key, shared by texts and emails: give both channels one pacer.
        pacer = pacer or RequestPacer(per_minute=settings.requests_per_minute)
        self._client = NotifyClient(settings=settings, session=session, clock=clock, pacer=pacer)

    @abstractmethod
    def _payload(self, message: OutgoingMessage) -> dict[str, object] | Failed: ...

    async def send(self, message: OutgoingMessage) -> SendResult:
        payload = self._payload(message)
        if isinstance(payload, Failed):
            return payload
        payload |= {"template_id": self._template_id, "reference": notify_reference(message)}
        return await self._client.create(self.kind, payload, message.delivery_id)

    async def reconcile(self, message: OutgoingMessage) -> ReconcileResult:
        return await self._client.find_by_reference(self.kind, notify_reference(message))

    async def close(self) -> None:
        """Nothing to release: the session belongs to the caller."""
        return


class NotifySmsChannel(_NotifyChannel):
    """Texts through one Notify template whose whole body is `((body))`."""

    route = SMS_NOTIFY
    kind = "sms"
    template_setting = "sms_template_id"

    def _payload(self, message: OutgoingMessage) -> dict[str, object] | Failed:
        payload: dict[str, object] = {
            "phone_number": message.recipient,
            "personalisation": {"body": message.text},
        }
        if self._settings.sms_sender_id:
            payload["sms_sender_id"] = self._settings.sms_sender_id
        return payload


class NotifyEmailChannel(_NotifyChannel):
    """Emails through one Notify template with subject `((subject))` and body `((body))`.

    Notify cannot set Message-ID, In-Reply-To or References, so mail clients thread an
    incident's emails only because the renderer keeps the subject identical across updates.
    """

    route = EMAIL_NOTIFY
    kind = "email"
    template_setting = "email_template_id"

    def _payload(self, message: OutgoingMessage) -> dict[str, object] | Failed:
        if not message.content.subject:
            return Failed("email has no subject: the Notify template needs ((subject))")
        payload: dict[str, object] = {
            "email_address": message.recipient,
            "personalisation": {"subject": message.content.subject, "body": message.text},
        }
        if self._settings.email_reply_to_id:
            payload["email_reply_to_id"] = self._settings.email_reply_to_id
        return payload
