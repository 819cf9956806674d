"""GOV.UK Notify channels against a local fake of Notify and a scripted server for odd replies."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import unused_port
from blockbuster import BlockBuster
from pydantic import SecretStr
from pytest_aiohttp import AiohttpServer
from structlog.testing import capture_logs

from broadcaster.core.channel_contract import OutgoingMessage, RenderedContent
from broadcaster.core.errors import ConfigError
from broadcaster.core.models import ChannelKind
from broadcaster.core.outcomes import Delivered, Failed, NotFound, ReconcileResult, Retry, SendResult
from channels.notify.auth import mint_token, parse_api_key
from channels.notify.channels import NotifyEmailChannel, NotifySmsChannel
from channels.notify.spec import NotifySettings
from tests.fakes.faults import Fault
from tests.fakes.notify_api import FAKE_SECRET, FAKE_SERVICE_ID, REPLIES, NotifyFake
from tests.messages import outgoing_message

PHONE = "+447700900123"
EMAIL = "manager@riverside.example"


def outgoing(recipient: str = PHONE, *, delivery_id: int = 17, subject: str | None = None) -> OutgoingMessage:
    channel = ChannelKind.EMAIL if "@" in recipient else ChannelKind.SMS
    return outgoing_message(delivery_id=delivery_id, channel=channel, recipient=recipient, subject=subject)


def settings_for(base_url: str, fake: NotifyFake, **overrides: object) -> NotifySettings:
    values: dict[str, object] = {
        "base_url": base_url,
        "api_key": SecretStr(fake.api_key),
        "sms_template_id": fake.sms_template_id,
        "email_template_id": fake.email_template_id,
        "timeout_seconds": 5.0,
    }
    return NotifySettings.model_validate(values | overrides)


def shape(outcome: SendResult | ReconcileResult) -> tuple[str, bool]:
    """An outcome's kind and its flag (needs_attention or ambiguous), for table comparisons."""
    if isinstance(outcome, Failed):
        return ("failed", outcome.needs_attention)
    if isinstance(outcome, Retry):
        return ("retry", outcome.ambiguous)
    return (type(outcome).__name__.lower(), False)


@pytest.fixture
def fake() -> NotifyFake:
    return NotifyFake()


@pytest.fixture
async def notify_url(aiohttp_server: AiohttpServer, fake: NotifyFake) -> str:
    server = await aiohttp_server(fake.app())
    return str(server.make_url(""))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def sms(notify_url: str, fake: NotifyFake, session: aiohttp.ClientSession) -> NotifySmsChannel:
    return NotifySmsChannel(settings=settings_for(notify_url, fake), session=session)


# --- credentials -------------------------------------------------------------------------


def test_api_key_splits_into_service_id_and_secret_even_when_the_name_has_hyphens() -> None:
    """The service id and secret are the last two UUIDs, whatever the key name holds."""
    credentials = parse_api_key(f"my-practice-key-{FAKE_SERVICE_ID}-{FAKE_SECRET}")
    assert (credentials.service_id, credentials.secret) == (FAKE_SERVICE_ID, FAKE_SECRET)


def test_malformed_api_key_error_names_the_setting_without_echoing_the_key() -> None:
    """A key that is not Notify's shape is refused, and the message does not repeat it."""
    with pytest.raises(ConfigError) as refused:
        parse_api_key(f"{FAKE_SERVICE_ID}-{FAKE_SECRET}-truncated")
    assert "BROADCASTER_NOTIFY__API_KEY" in str(refused.value)
    assert FAKE_SECRET not in str(refused.value)


def test_minted_token_carries_notify_header_and_claims() -> None:
    """The token is HS256 with typ JWT, issued by the service id at the clock's time."""
    token = mint_token(parse_api_key(NotifyFake().api_key), now=1_700_000_000.7)
    claims = jwt.decode(token, FAKE_SECRET, algorithms=["HS256"], options={"verify_iat": False})
    assert jwt.get_unverified_header(token) == {"typ": "JWT", "alg": "HS256"}
    assert claims == {"iss": FAKE_SERVICE_ID, "iat": 1_700_000_000}


@pytest.mark.parametrize(
    ("channel_class", "missing", "env_var"),
    [
        (NotifySmsChannel, "api_key", "BROADCASTER_NOTIFY__API_KEY"),
        (NotifySmsChannel, "sms_template_id", "BROADCASTER_NOTIFY__SMS_TEMPLATE_ID"),
        (NotifyEmailChannel, "email_template_id", "BROADCASTER_NOTIFY__EMAIL_TEMPLATE_ID"),
    ],
)
async def test_missing_setting_is_refused_at_construction_naming_its_env_var(
    channel_class: type[NotifySmsChannel | NotifyEmailChannel],
    missing: str,
    env_var: str,
    session: aiohttp.ClientSession,
) -> None:
    """A channel without its key or template cannot be built, and says which variable to set."""
    settings = settings_for("http://127.0.0.1:1", NotifyFake(), **{missing: None})
    with pytest.raises(ConfigError, match=env_var):
        channel_class(settings=settings, session=session)


# --- sending -------------------------------------------------------------------------------


async def test_sms_reaches_notify_with_template_body_reference_and_sender(
    notify_url: str, fake: NotifyFake, session: aiohttp.ClientSession
) -> None:
    """A text goes to the ((body)) template with an id-only reference; Notify's id comes back."""
    settings = settings_for(notify_url, fake, sms_sender_id="5e4de000-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
    outcome = await NotifySmsChannel(settings=settings, session=session).send(outgoing())
    [stored] = fake.messages_to(PHONE)
    assert outcome == Delivered(provider_id=stored.id)
    assert (stored.template_id, stored.reference) == (fake.sms_template_id, "INC-42:0:17")
    assert stored.personalisation == {"body": "Phones are down. Use 111 online."}
    assert stored.sender_id == "5e4de000-aaaa-4aaa-8aaa-aaaaaaaaaaaa"


async def test_email_reaches_notify_with_subject_body_and_reply_to(
    notify_url: str, fake: NotifyFake, session: aiohttp.ClientSession
) -> None:
    """An email fills ((subject)) and ((body)): the identical subject is all that threads it."""
    settings = settings_for(notify_url, fake, email_reply_to_id="7e7e0000-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
    channel = NotifyEmailChannel(settings=settings, session=session)
    outcome = await channel.send(outgoing(EMAIL, subject="[INC-42] Phones down"))
    [stored] = fake.messages_to(EMAIL)
    assert outcome == Delivered(provider_id=stored.id)
    assert stored.personalisation == {
        "subject": "[INC-42] Phones down",
        "body": "Phones are down. Use 111 online.",
    }
    assert stored.sender_id == "7e7e0000-bbbb-4bbb-8bbb-bbbbbbbbbbbb"


async def test_email_without_a_subject_fails_before_calling_notify(
    notify_url: str, fake: NotifyFake, session: aiohttp.ClientSession
) -> None:
    """The email template needs ((subject)); a message without one is not sent at all."""
    channel = NotifyEmailChannel(settings=settings_for(notify_url, fake), session=session)
    outcome = await channel.send(outgoing(EMAIL))
    assert shape(outcome) == ("failed", False)
    assert fake.arrivals == []


async def test_skewed_clock_fails_and_needs_attention(
    notify_url: str, fake: NotifyFake, session: aiohttp.ClientSession
) -> None:
    """A token more than 30 s off Notify's clock is refused: no retry, a person must look."""
    slow_clock: Callable[[], float] = lambda: time.time() - 90  # noqa: E731 - a one-off test clock
    channel = NotifySmsChannel(settings=settings_for(notify_url, fake), session=session, clock=slow_clock)
    outcome = await channel.send(outgoing())
    assert shape(outcome) == ("failed", True)
    assert isinstance(outcome, Failed)
    assert REPLIES["skew"][2] in outcome.reason
    assert fake.notifications == []


async def test_recipient_notify_rejects_fails_without_needing_attention(
    sms: NotifySmsChannel, fake: NotifyFake
) -> None:
    """A landline is a ValidationError: that message fails, the service itself is fine."""
    outcome = await sms.send(outgoing("+442079460000"))
    assert shape(outcome) == ("failed", False)
    assert fake.notifications == []


async def test_daily_cap_fails_and_needs_attention(
    session: aiohttp.ClientSession, aiohttp_server: AiohttpServer
) -> None:
    """TooManyRequestsError means no more sends today: fail visibly rather than retry."""
    capped = NotifyFake(daily_limit=1)
    server = await aiohttp_server(capped.app())
    channel = NotifySmsChannel(settings=settings_for(str(server.make_url("")), capped), session=session)
    assert isinstance(await channel.send(outgoing(delivery_id=1)), Delivered)
    outcome = await channel.send(outgoing(delivery_id=2))
    assert shape(outcome) == ("failed", True)
    assert len(capped.notifications) == 1


async def test_rate_limit_error_retries_after_two_seconds_when_notify_gives_no_hint(
    sms: NotifySmsChannel, fake: NotifyFake
) -> None:
    """Notify's RateLimitError carries no Retry-After; the refused request was not acted on."""
    fake.faults.script(f"sms:{PHONE}", Fault.THROTTLE)
    assert await sms.send(outgoing()) == Retry(
        "notify 429 RateLimitError: over the per-minute rate limit (Exceeded rate limit for key "
        "type LIVE of 3000 requests per 60 seconds)",
        after=2.0,
    )


async def test_connection_refused_is_a_plain_retry(fake: NotifyFake, session: aiohttp.ClientSession) -> None:
    """Nothing listening means nothing was sent: retry without reconciling first."""
    settings = settings_for(f"http://127.0.0.1:{unused_port()}", fake)
    outcome = await NotifySmsChannel(settings=settings, session=session).send(outgoing())
    assert shape(outcome) == ("retry", False)


# --- ambiguity and reconciliation ----------------------------------------------------------


async def test_500_after_storing_is_ambiguous_and_reconcile_finds_it_so_nothing_is_sent_twice(
    sms: NotifySmsChannel, fake: NotifyFake
) -> None:
    """Notify stored the text then failed: reconcile by reference returns it instead of a resend."""
    fake.faults.script(f"sms:{PHONE}", Fault.ACT_THEN_ERROR)
    assert shape(await sms.send(outgoing())) == ("retry", True)
    found = await sms.reconcile(outgoing())
    [stored] = fake.messages_to(PHONE)
    assert found == Delivered(provider_id=stored.id)
    assert fake.duplicates_by_reference() == {}


async def test_500_before_storing_reconciles_to_not_found(sms: NotifySmsChannel, fake: NotifyFake) -> None:
    """Notify failed before storing: reconcile finds nothing, so a resend is safe."""
    fake.faults.script(f"sms:{PHONE}", Fault.TRANSIENT)
    assert shape(await sms.send(outgoing())) == ("retry", True)
    assert await sms.reconcile(outgoing()) == NotFound()
    assert fake.notifications == []


async def test_reply_lost_to_a_timeout_is_ambiguous_and_reconcile_finds_the_text(
    notify_url: str, fake: NotifyFake, session: aiohttp.ClientSession
) -> None:
    """Notify stored the text but the reply never came in time: reconcile returns its id."""
    fake.hang_seconds = 1.0
    fake.faults.script(f"sms:{PHONE}", Fault.ACT_THEN_TIMEOUT)
    settings = settings_for(notify_url, fake, timeout_seconds=0.2)
    channel = NotifySmsChannel(settings=settings, session=session)
    assert shape(await channel.send(outgoing())) == ("retry", True)
    [stored] = fake.messages_to(PHONE)
    assert await channel.reconcile(outgoing()) == Delivered(provider_id=stored.id)


async def test_reconcile_that_notify_refuses_is_a_retry(
    notify_url: str, fake: NotifyFake, session: aiohttp.ClientSession
) -> None:
    """A lookup Notify refuses cannot say whether the text exists, so it asks to try later."""
    skewed = NotifySmsChannel(
        settings=settings_for(notify_url, fake), session=session, clock=lambda: time.time() + 90
    )
    assert shape(await skewed.reconcile(outgoing())) == ("retry", False)


# --- the error table, through a server that answers whatever a case needs ------------------


def _notify_error(error: str, message: str = "something") -> str:
    return f'{{"errors": [{{"error": "{error}", "message": "{message}"}}], "status_code": 0}}'


async def _send_against_reply(
    aiohttp_server: AiohttpServer,
    session: aiohttp.ClientSession,
    status: int,
    body: str,
    headers: dict[str, str] | None = None,
) -> SendResult:
    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, headers=headers, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    server = await aiohttp_server(app)
    settings = settings_for(str(server.make_url("")), NotifyFake())
    return await NotifySmsChannel(settings=settings, session=session).send(outgoing())


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, _notify_error("ValidationError"), ("failed", False)),
        (400, _notify_error("ValidationError", "service is in trial mode"), ("failed", False)),
        (400, _notify_error("BadRequestError"), ("failed", True)),
        (403, _notify_error("AuthError"), ("failed", True)),
        (429, _notify_error("RateLimitError"), ("retry", False)),
        (429, _notify_error("TooManyRequestsError"), ("failed", True)),
        (500, _notify_error("Exception"), ("retry", True)),
        (502, "<html>Bad gateway</html>", ("retry", True)),
        (401, _notify_error("AuthError"), ("failed", True)),
        (404, "<html>Not found</html>", ("failed", True)),
    ],
)
async def test_notify_error_table_classifies_on_status_and_type_not_message(
    aiohttp_server: AiohttpServer,
    session: aiohttp.ClientSession,
    status: int,
    body: str,
    expected: tuple[str, bool],
) -> None:
    """Each (status, error type) maps to fail / fail-needing-attention / retry / ambiguous retry."""
    assert shape(await _send_against_reply(aiohttp_server, session, status, body)) == expected


async def test_rate_limit_retry_honours_a_retry_after_header(
    aiohttp_server: AiohttpServer, session: aiohttp.ClientSession
) -> None:
    """If a 429 ever carries Retry-After, its wait is used instead of the default."""
    outcome = await _send_against_reply(
        aiohttp_server, session, 429, _notify_error("RateLimitError"), {"Retry-After": "7"}
    )
    assert isinstance(outcome, Retry)
    assert outcome.after == 7.0


# --- secrets ---------------------------------------------------------------------------------


async def test_api_key_never_appears_in_reasons_or_logs(sms: NotifySmsChannel, fake: NotifyFake) -> None:
    """Whatever Notify answers, neither the key, its secret nor a bearer token leaks out."""
    fake.faults.script(f"sms:{PHONE}", Fault.TOKEN_EXPIRED, Fault.ACT_THEN_ERROR, Fault.PERMISSION)
    with capture_logs() as logs:
        outcomes: list[SendResult | ReconcileResult] = [await sms.send(outgoing()) for _ in range(3)]
        outcomes.append(await sms.send(outgoing("+442079460000")))
        outcomes.append(await sms.reconcile(outgoing()))
    written = " ".join([repr(outcomes), *(repr(entry) for entry in logs)])
    assert len(logs) >= 4  # the refusals were logged, so the check below looked at them
    for secret in (fake.api_key, FAKE_SECRET, "Bearer", "eyJ"):
        assert secret not in written


# --- pacing ----------------------------------------------------------------------------------


def most_in_any_window(timestamps: list[float], window: float) -> int:
    ordered = sorted(timestamps)
    return max(sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered))


async def test_pacer_keeps_a_burst_within_the_configured_rate(
    aiohttp_server: AiohttpServer, session: aiohttp.ClientSession, blockbuster: BlockBuster
) -> None:
    """40 texts at once at 1,200 a minute: 20 go at once, then 20 a second, none refused.

    blockbuster fails the test if waiting for a slot ever blocks the event loop.
    """
    limited = NotifyFake(rate_limit_per_minute=1200, rate_limit_burst=22)
    server = await aiohttp_server(limited.app())
    settings = settings_for(str(server.make_url("")), limited, requests_per_minute=1200)
    channel = NotifySmsChannel(settings=settings, session=session)
    messages = [outgoing(f"+4477009001{n:02d}", delivery_id=n) for n in range(40)]
    outcomes = await asyncio.gather(*(channel.send(m) for m in messages))
    assert all(isinstance(o, Delivered) for o in outcomes)
    arrivals = limited.arrivals
    assert most_in_any_window(arrivals, 0.5) <= 20 + 10 + 1  # burst + half a second's worth
    assert max(arrivals) - min(arrivals) >= (40 - 20) / 20 - 0.1


# --- content limits and the fake's own lookups ----------------------------------------------


async def test_text_over_918_characters_fails_and_needs_attention(
    sms: NotifySmsChannel, fake: NotifyFake
) -> None:
    """Notify answers BadRequestError for an over-long text: the renderer let it through."""
    too_long = dataclasses.replace(outgoing(), content=RenderedContent(body="x" * 919))
    assert shape(await sms.send(too_long)) == ("failed", True)
    assert fake.notifications == []


async def test_fake_serves_one_notification_by_id(
    sms: NotifySmsChannel, fake: NotifyFake, notify_url: str, session: aiohttp.ClientSession
) -> None:
    """GET /v2/notifications/{id} returns what was stored, as Notify documents it."""
    outcome = await sms.send(outgoing())
    assert isinstance(outcome, Delivered)
    token = mint_token(parse_api_key(fake.api_key), now=time.time())
    url = f"{notify_url.rstrip('/')}/v2/notifications/{outcome.provider_id}"
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as reply:
        body = await reply.json()
    assert (reply.status, body["reference"], body["phone_number"]) == (200, "INC-42:0:17", PHONE)
