"""The SMTP email channel against a real aiosmtpd server in the test's event loop."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.models import ChannelKind
from broadcaster.core.outcomes import Delivered, Failed, NotFound, Retry
from channels.email.message import build_email, message_id_for
from channels.email.smtp import SmtpEmailChannel
from channels.email.spec import SmtpSettings
from tests.fakes.faults import Fault, FaultPlan
from tests.fakes.smtp_server import RunningSmtpServer, Stage, running_smtp_server
from tests.messages import outgoing_message

RECIPIENT = "manager@riverside.nhs.uk"
SUBJECT = "[INC-42] Phones down"
PASSWORD = "correct-horse-battery-staple"


def outgoing(
    seq: int = 0, *, delivery_id: int | None = None, previous: tuple[str, ...] = ()
) -> OutgoingMessage:
    return outgoing_message(
        delivery_id=delivery_id if delivery_id is not None else 100 + seq,
        update_seq=seq,
        channel=ChannelKind.EMAIL,
        recipient=RECIPIENT,
        body=f"Update {seq}: phones are still down.",
        subject=SUBJECT,
        marker=f"Ref INC-42.{seq}",
        previous_ids=previous,
    )


def smtp_settings(smtp: RunningSmtpServer, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": smtp.host,
        "port": smtp.port,
        "security": "none",
        "timeout_seconds": 5.0,
        "message_id_domain": "alerts.example.nhs.uk",
    }
    return SmtpSettings.model_validate(values | overrides)


@pytest.fixture
async def smtp() -> AsyncIterator[RunningSmtpServer]:
    async with running_smtp_server() as server:
        yield server


@pytest.fixture
async def channel(smtp: RunningSmtpServer) -> AsyncIterator[SmtpEmailChannel]:
    email_channel = SmtpEmailChannel(settings=smtp_settings(smtp))
    yield email_channel
    await email_channel.close()


async def send_thread(channel: SmtpEmailChannel, updates: int) -> list[str]:
    """Send updates 0..n-1 the way the dispatcher does, threading each onto the delivered ids."""
    ids: list[str] = []
    for seq in range(updates):
        result = await channel.send(outgoing(seq, previous=tuple(ids)))
        assert isinstance(result, Delivered)
        assert result.provider_id is not None
        ids.append(result.provider_id)
    return ids


def test_message_id_is_lower_case_and_built_from_incident_update_and_delivery() -> None:
    """The Message-ID is deterministic, so every attempt of one delivery carries the same one."""
    message_id = message_id_for(outgoing(2, delivery_id=7), "Alerts.Example")
    assert message_id == "<inc-42.2.7@alerts.example>"


def test_built_email_is_utf8_plain_text_from_the_configured_sender() -> None:
    """From carries the display name; the body is the message text, decodable as UTF-8."""
    email = build_email(
        outgoing(), from_address="alerts@icb.nhs.uk", from_name="ICB alerts", message_id_domain="x"
    )
    assert str(email["From"]) == "ICB alerts <alerts@icb.nhs.uk>"
    assert email.get_content_type() == "text/plain"
    assert email.get_content_charset() == "utf-8"
    payload = email.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode("utf-8").strip() == "Update 0: phones are still down."


def test_non_ascii_subject_and_body_survive_the_wire_format() -> None:
    """A Welsh subject and body are encoded for 7-bit SMTP and decode back unchanged."""
    from email import message_from_bytes, policy  # noqa: PLC0415  # only this test parses

    welsh = "Meddygfa Glan-yr-Afon: ffôn i lawr"
    message = outgoing()
    message = dataclasses.replace(
        message, content=dataclasses.replace(message.content, subject=f"[INC-42] {welsh}", body=welsh)
    )
    raw = build_email(message, from_address="a@b.example", from_name="Gwasanaeth", message_id_domain="x")
    wire = raw.as_bytes()
    assert wire.isascii()
    parsed = message_from_bytes(wire, policy=policy.default)
    assert parsed["Subject"] == f"[INC-42] {welsh}"
    assert parsed.get_content().strip() == welsh


async def test_first_email_opens_the_thread_without_in_reply_to(
    smtp: RunningSmtpServer, channel: SmtpEmailChannel
) -> None:
    """The first email of an incident is a new conversation: no In-Reply-To, no References."""
    await send_thread(channel, 1)
    [first] = smtp.recorder.to(RECIPIENT)
    assert first["In-Reply-To"] is None
    assert first["References"] is None


async def test_update_replies_to_the_previous_email_and_references_the_whole_thread(
    smtp: RunningSmtpServer, channel: SmtpEmailChannel
) -> None:
    """Update 2 has In-Reply-To = update 1 and References = root, update 1, oldest first."""
    root_id, update1_id, _ = await send_thread(channel, 3)
    update2 = smtp.recorder.to(RECIPIENT)[2]
    assert str(update2["In-Reply-To"]).strip() == update1_id
    assert str(update2["References"]).split() == [root_id, update1_id]


async def test_every_email_carries_exactly_one_message_id_which_is_the_provider_id(
    smtp: RunningSmtpServer, channel: SmtpEmailChannel
) -> None:
    """Each received email has a single Message-ID header, equal to what send() reported."""
    ids = await send_thread(channel, 3)
    received = smtp.recorder.to(RECIPIENT)
    assert [m.get_all("Message-ID") for m in received] == [[i] for i in ids]


async def test_subject_is_identical_across_the_thread(
    smtp: RunningSmtpServer, channel: SmtpEmailChannel
) -> None:
    """No "Re:" is added: Gmail only threads messages whose subjects match."""
    await send_thread(channel, 3)
    received = smtp.recorder.to(RECIPIENT)
    assert {str(m["Subject"]) for m in received} == {SUBJECT}
    assert {str(m["Thread-Topic"]) for m in received} == {"Phones down"}


async def test_a_line_break_in_a_subject_never_adds_a_header(
    smtp: RunningSmtpServer, channel: SmtpEmailChannel
) -> None:
    """Belt and braces: a subject with CR LF (a title stored before titles were checked) stays one
    Subject line on the wire; no Bcc reaches the server and no other mailbox gets a copy."""
    message = outgoing()
    injected = "[INC-42] Phones down\r\nBcc: attacker@evil.example"
    message = dataclasses.replace(message, content=dataclasses.replace(message.content, subject=injected))
    assert isinstance(await channel.send(message), Delivered)
    [received] = smtp.recorder.received
    assert received.rcpt_tos == (RECIPIENT,)
    assert received.message["Bcc"] is None
    assert str(received.message["Subject"]) == "[INC-42] Phones down  Bcc: attacker@evil.example"
    assert str(received.message["Thread-Topic"]) == "Phones down  Bcc: attacker@evil.example"


@pytest.mark.parametrize("stage", ["rcpt", "data"])
async def test_retry_after_451_reuses_the_message_id_and_delivers_one_copy(stage: Stage) -> None:
    """A 451 is retried; the resend carries the same Message-ID and only one copy arrives."""
    plan = FaultPlan()
    plan.script(f"email:{RECIPIENT}", Fault.TRANSIENT)
    async with running_smtp_server(plan=plan, transient_at=stage) as smtp:
        channel = SmtpEmailChannel(settings=smtp_settings(smtp))
        first = await channel.send(outgoing())
        second = await channel.send(outgoing())
        await channel.close()
    assert isinstance(first, Retry)
    assert "451" in first.reason
    assert not first.ambiguous
    assert second == Delivered(provider_id=message_id_for(outgoing(), "alerts.example.nhs.uk"))
    assert [m["Message-ID"] for m in smtp.recorder.to(RECIPIENT)] == [second.provider_id]
    if stage == "data":
        assert smtp.recorder.refused_at_data == [second.provider_id]


async def test_mailbox_unavailable_550_is_failed_without_retry() -> None:
    """A 550 for the recipient is permanent, but the endpoint settings are fine."""
    plan = FaultPlan()
    plan.script(f"email:{RECIPIENT}", Fault.PERMISSION)
    async with running_smtp_server(plan=plan) as smtp:
        channel = SmtpEmailChannel(settings=smtp_settings(smtp))
        result = await channel.send(outgoing())
        await channel.close()
    assert isinstance(result, Failed)
    assert result.reason.startswith("SMTP 550")
    assert not result.needs_attention
    assert smtp.recorder.received == []


async def test_login_with_the_right_password_delivers() -> None:
    """With smtp.username set the channel logs in before sending."""
    async with running_smtp_server(credentials=("alerts", PASSWORD)) as smtp:
        settings = smtp_settings(smtp, username="alerts", password=SecretStr(PASSWORD))
        channel = SmtpEmailChannel(settings=settings)
        result = await channel.send(outgoing())
        await channel.close()
    assert isinstance(result, Delivered)
    assert smtp.recorder.logins == ["alerts"]
    assert len(smtp.recorder.to(RECIPIENT)) == 1


async def test_bad_smtp_password_needs_attention_and_is_never_revealed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused login is Failed(needs_attention); the password is in no reason and no log."""
    caplog.set_level(logging.DEBUG)
    async with running_smtp_server(credentials=("alerts", "the-real-one")) as smtp:
        settings = smtp_settings(smtp, username="alerts", password=SecretStr(PASSWORD))
        channel = SmtpEmailChannel(settings=settings)
        with capture_logs() as events:
            result = await channel.send(outgoing())
            await channel.close()
    assert isinstance(result, Failed)
    assert result.needs_attention
    assert "535" in result.reason
    assert PASSWORD not in result.reason
    assert PASSWORD not in repr(events)
    assert PASSWORD not in caplog.text
    assert smtp.recorder.received == []


async def test_connection_refused_is_retried_and_not_ambiguous(smtp: RunningSmtpServer) -> None:
    """Nothing listening: retry later; a resend cannot duplicate (same Message-ID)."""
    settings = smtp_settings(smtp, port=1)  # nothing listens on port 1 of 127.0.0.1
    channel = SmtpEmailChannel(settings=settings)
    result = await channel.send(outgoing())
    await channel.close()
    assert isinstance(result, Retry)
    assert not result.ambiguous


async def test_sessions_are_kept_open_and_reused(smtp: RunningSmtpServer) -> None:
    """With one pooled session, three emails travel over one SMTP connection."""
    channel = SmtpEmailChannel(settings=smtp_settings(smtp, connections=1))
    await send_thread(channel, 3)
    await channel.close()
    assert smtp.recorder.connections == 1
    assert len(smtp.recorder.to(RECIPIENT)) == 3


async def test_session_dropped_by_the_server_is_reconnected_without_a_retry(
    smtp: RunningSmtpServer,
) -> None:
    """After the server closes an idle session, the next email still goes out at once."""
    channel = SmtpEmailChannel(settings=smtp_settings(smtp, connections=1))
    await send_thread(channel, 1)
    smtp.drop_connections()
    result = await channel.send(outgoing(1, previous=()))
    await channel.close()
    assert isinstance(result, Delivered)
    assert smtp.recorder.connections == 2
    assert len(smtp.recorder.to(RECIPIENT)) == 2


async def test_reconcile_says_a_resend_is_safe(channel: SmtpEmailChannel) -> None:
    """SMTP has no lookup; a resend reuses the Message-ID, so reconcile answers NotFound."""
    assert await channel.reconcile(outgoing()) == NotFound()
