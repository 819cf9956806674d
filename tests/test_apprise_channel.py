"""The apprise channel against a real local webhook (apprise's json:// plugin) on a free port."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from blockbuster import BlockBuster
from pydantic import SecretStr

from broadcaster.config.secret_refs import SecretLookup
from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.models import ChannelKind
from broadcaster.core.outcomes import Delivered, Failed, Retry
from channels.apprise.channel import AppriseChannel
from channels.apprise.spec import APPRISE_APPRISE, SMS_APPRISE, AppriseSettings
from tests.messages import outgoing_message

# apprise's email plugin imports the stdlib imghdr (for PGPy) the first time plugins load; Python
# 3.11 flags that module as deprecated, which filterwarnings=error would turn into a failure.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
PHONE = "+447700900001"
WEBHOOK_PASSWORD = "hook-password-5f2a"


@dataclass
class Webhook:
    """A local endpoint: POST /reply/<status>/... answers <status> and records what it got."""

    base: str  # "json://127.0.0.1:PORT"
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
async def webhook(aiohttp_server: ServerFactory) -> Webhook:
    hook = Webhook(base="")

    async def reply(request: web.Request) -> web.Response:
        hook.received.append((request.path, await request.json()))
        return web.json_response({}, status=int(request.match_info["status"]))

    app = web.Application()
    app.router.add_post("/reply/{status}/{rest:.*}", reply)
    server = await aiohttp_server(app)
    hook.base = f"json://127.0.0.1:{server.port}"
    return hook


@pytest.fixture
async def pool() -> AsyncIterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="apprise-test")
    yield executor
    await asyncio.to_thread(executor.shutdown)


def channel_for(
    url: str, pool: ThreadPoolExecutor, *, route: str = APPRISE_APPRISE, timeout: float = 10.0
) -> AppriseChannel:
    return AppriseChannel(
        route=route,
        settings=AppriseSettings(threads=2, timeout_seconds=timeout),
        secrets=SecretLookup({"hook_url": SecretStr(url)}),
        executor=pool,
    )


def outgoing(*, channel: ChannelKind = ChannelKind.APPRISE, recipient: str = "hook_url") -> OutgoingMessage:
    return outgoing_message(
        channel=channel,
        recipient=recipient,
        credential_ref="hook_url",
        body="Phones are down; use 0161 000 0000.",
        subject="[INC-42] Phones",
    )


async def test_apprise_json_webhook_receives_title_and_body(
    webhook: Webhook, pool: ThreadPoolExecutor
) -> None:
    """A 200 from the webhook is Delivered, and it received the subject and the text."""
    result = await channel_for(f"{webhook.base}/reply/200/teams", pool).send(outgoing())
    assert result == Delivered()
    [(path, payload)] = webhook.received
    assert path == "/reply/200/teams"
    assert payload["title"] == "[INC-42] Phones"
    assert payload["message"] == "Phones are down; use 0161 000 0000."


async def test_apprise_400_is_failed_without_retry(webhook: Webhook, pool: ThreadPoolExecutor) -> None:
    """A 400 is the provider refusing this message: retrying cannot help."""
    result = await channel_for(f"{webhook.base}/reply/400/x", pool).send(outgoing())
    assert result == Failed("JSON answered HTTP 400", needs_attention=False)


async def test_apprise_401_needs_attention(webhook: Webhook, pool: ThreadPoolExecutor) -> None:
    """A 401 means the credentials in the URL are wrong: a person must fix the endpoint."""
    result = await channel_for(f"{webhook.base}/reply/401/x", pool).send(outgoing())
    assert isinstance(result, Failed)
    assert result.needs_attention


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_apprise_rate_limit_and_server_errors_are_retried(
    webhook: Webhook, pool: ThreadPoolExecutor, status: int
) -> None:
    """429 and 5xx are worth trying again later, and apprise itself tried only once."""
    result = await channel_for(f"{webhook.base}/reply/{status}/x", pool).send(outgoing())
    assert result == Retry(f"JSON answered HTTP {status}")
    assert len(webhook.received) == 1


async def test_apprise_connection_refused_is_retried(pool: ThreadPoolExecutor) -> None:
    """Nothing listening gives no HTTP status: retry later."""
    result = await channel_for("json://127.0.0.1:1/hook", pool).send(outgoing())
    assert isinstance(result, Retry)
    assert "without an HTTP status" in result.reason


@pytest.mark.parametrize(
    "url",
    [
        f"nosuchscheme://{WEBHOOK_PASSWORD}@alerts.example",  # apprise logs the user in clear
        f"twilio://AC1234:{WEBHOOK_PASSWORD}@+441234/+445678",  # ...and a bad Twilio token
    ],
)
async def test_unusable_apprise_url_needs_attention_and_its_secret_is_never_revealed(
    pool: ThreadPoolExecutor, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    """A URL apprise cannot use is Failed(needs_attention); its credentials appear nowhere."""
    caplog.set_level(logging.DEBUG)
    result = await channel_for(url, pool).send(outgoing())
    assert isinstance(result, Failed)
    assert result.needs_attention
    assert "hook_url" in result.reason
    assert WEBHOOK_PASSWORD not in result.reason
    assert any(r.name == "apprise" for r in caplog.records)
    assert WEBHOOK_PASSWORD not in caplog.text


async def test_missing_apprise_secret_needs_attention_and_names_the_setting(
    pool: ThreadPoolExecutor,
) -> None:
    """A secret that is not configured says which environment variable to set."""
    channel = AppriseChannel(
        route=APPRISE_APPRISE,
        settings=AppriseSettings(),
        secrets=SecretLookup({}),
        executor=pool,
    )
    result = await channel.send(outgoing())
    assert isinstance(result, Failed)
    assert result.needs_attention
    assert "BROADCASTER_SECRETS__HOOK_URL" in result.reason


async def test_sms_route_puts_the_recipient_number_into_the_url(
    webhook: Webhook, pool: ThreadPoolExecutor
) -> None:
    """For sms/apprise the URL's {phone} becomes the recipient's E.164 number."""
    channel = channel_for(f"{webhook.base}/reply/200/sms/{{phone}}", pool, route=SMS_APPRISE)
    result = await channel.send(outgoing(channel=ChannelKind.SMS, recipient=PHONE))
    assert result == Delivered()
    assert [path for path, _ in webhook.received] == [f"/reply/200/sms/{PHONE}"]


async def test_sms_route_without_a_phone_placeholder_needs_attention(
    webhook: Webhook, pool: ThreadPoolExecutor
) -> None:
    """An SMS URL with no {phone} would text one fixed number: refuse it, send nothing."""
    channel = channel_for(f"{webhook.base}/reply/200/sms", pool, route=SMS_APPRISE)
    result = await channel.send(outgoing(channel=ChannelKind.SMS, recipient=PHONE))
    assert isinstance(result, Failed)
    assert result.needs_attention
    assert webhook.received == []


async def test_apprise_runs_in_the_owned_pool_not_on_the_event_loop(
    webhook: Webhook,
    pool: ThreadPoolExecutor,
    caplog: pytest.LogCaptureFixture,
    blockbuster: BlockBuster,
) -> None:
    """apprise's blocking I/O happens in our pool's threads; the event loop never blocks."""
    caplog.set_level(logging.DEBUG, logger="apprise")
    result = await channel_for(f"{webhook.base}/reply/200/x", pool).send(outgoing())
    assert result == Delivered()
    apprise_threads = {r.threadName for r in caplog.records if r.name == "apprise"}
    assert apprise_threads
    assert all((name or "").startswith("apprise-test") for name in apprise_threads)


async def test_apprise_slower_than_the_deadline_is_retried(
    aiohttp_server: ServerFactory, pool: ThreadPoolExecutor
) -> None:
    """When apprise has not finished by settings.timeout_seconds the send reports Retry.

    The endpoint answers only once the test has the result, so it is late for certain."""
    answered = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await answered.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/slow", slow)
    server = await aiohttp_server(app)
    channel = channel_for(f"json://127.0.0.1:{server.port}/slow", pool, timeout=0.2)
    try:
        result = await channel.send(outgoing())
    finally:
        answered.set()
    assert result == Retry("apprise did not finish within 0.2s")
