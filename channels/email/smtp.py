"""Email over SMTP: a few long-lived aiosmtplib sessions, every reply code classified as data."""

from __future__ import annotations

import asyncio
import socket
import ssl
from email.message import Message
from typing import Literal

import aiosmtplib
import structlog

from broadcaster.core.channel_contract import OutgoingMessage
from broadcaster.core.outcomes import Delivered, Failed, NotFound, ReconcileResult, Retry, SendResult
from channels.email.message import build_email
from channels.email.spec import EMAIL_SMTP, SmtpSettings

log = structlog.get_logger(__name__)

Verdict = Literal["retry", "failed", "attention"]

# RFC 5321 §4.2.2-4.2.3 reply codes (RFC 4954 §6 for AUTH). Other 4xx retry, other 5xx fail.
SMTP_REPLIES: dict[int, tuple[Verdict, str]] = {
    421: ("retry", "server closing the session"),
    450: ("retry", "mailbox busy or greylisted"),
    451: ("retry", "server error, try later"),
    452: ("retry", "server out of storage"),
    530: ("attention", "server requires authentication: set smtp.username / smtp.password"),
    534: ("attention", "server wants a stronger login mechanism"),
    535: ("attention", "SMTP login refused: check smtp.username / smtp.password"),
    550: ("failed", "mailbox unavailable"),
    551: ("failed", "user not local"),
    552: ("failed", "mailbox over its storage limit"),
    553: ("failed", "mailbox name not allowed"),
    554: ("failed", "transaction failed"),
}


class SmtpEmailChannel:
    """Route EMAIL_SMTP: each message goes out on one of `settings.connections` sessions."""

    route = EMAIL_SMTP

    def __init__(self, *, settings: SmtpSettings) -> None:
        self._settings = settings
        tls = ssl.create_default_context() if settings.security != "none" else None
        self._sessions = [self._new_session(tls) for _ in range(settings.connections)]
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        for session in self._sessions:
            self._idle.put_nowait(session)

    def _new_session(self, tls: ssl.SSLContext | None) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password.get_secret_value() if s.password and s.username else None,
            timeout=s.timeout_seconds,
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            tls_context=tls,
            # Otherwise aiosmtplib resolves this machine's FQDN (a blocking DNS lookup) for every
            # new session's EHLO; the plain host name is enough for a relay.
            local_hostname=socket.gethostname(),
        )

    async def send(self, message: OutgoingMessage) -> SendResult:
        s = self._settings
        email = build_email(
            message,
            from_address=s.from_address,
            from_name=s.from_name,
            message_id_domain=s.message_id_domain,
        )
        session = await self._idle.get()
        try:
            return await self._send_on(session, email, message)
        finally:
            self._idle.put_nowait(session)

    async def _send_on(
        self, session: aiosmtplib.SMTP, email: Message, message: OutgoingMessage
    ) -> SendResult:
        try:
            if session.is_connected:
                try:
                    await self._transmit(session, email, message.recipient)
                    return Delivered(provider_id=str(email["Message-ID"]))
                except aiosmtplib.SMTPServerDisconnected:
                    # The server dropped this idle session and its first command found out:
                    # reconnect once now rather than charge the delivery a retry.
                    session.close()
                    log.info("smtp_session_reconnect", channel=self.route, host=self._settings.host)
            await session.connect()
            await self._transmit(session, email, message.recipient)
        except asyncio.CancelledError:
            session.close()  # cancelled mid-transaction: the session's state is unknown
            raise
        except (aiosmtplib.SMTPException, OSError) as exc:
            return self._classify(session, exc)
        return Delivered(provider_id=str(email["Message-ID"]))

    async def _transmit(self, session: aiosmtplib.SMTP, email: Message, to: str) -> None:
        await session.send_message(email, sender=self._settings.from_address, recipients=[to])

    def _classify(self, session: aiosmtplib.SMTP, exc: Exception) -> SendResult:
        code, text = _reply_of(exc)
        if code is None or code == 421:
            session.close()  # after a timeout or a 421 the session cannot be trusted
        if code is None:
            # Refused, reset, dropped, timed out (aiosmtplib's all derive from OSError). Not
            # `ambiguous` even if DATA went out: the resend carries the same Message-ID, which
            # receivers de-duplicate, so reconcile() has nothing to find and says NotFound.
            if isinstance(exc, OSError):
                return Retry(self._reason(f"SMTP connection problem: {text}"))
            # e.g. the server offers no AUTH, or no STARTTLS: the settings need a person.
            return Failed(self._reason(f"SMTP session refused: {text}"), needs_attention=True)
        verdict, meaning = SMTP_REPLIES.get(code, ("retry" if code < 500 else "failed", "refused"))
        reason = self._reason(f"SMTP {code} {meaning}: {text}")
        if verdict == "retry":
            return Retry(reason)
        return Failed(reason, needs_attention=verdict == "attention")

    def _reason(self, text: str) -> str:
        """Short, and never the password, even if a server echoes it back."""
        password = self._settings.password
        if password is not None and password.get_secret_value():
            text = text.replace(password.get_secret_value(), "[redacted]")
        return text[:300]

    async def reconcile(self, message: OutgoingMessage) -> ReconcileResult:
        # SMTP offers no lookup, and none is needed: a resend carries the same Message-ID.
        return NotFound()

    async def close(self) -> None:
        for session in self._sessions:
            if session.is_connected:
                try:
                    await session.quit()
                except (aiosmtplib.SMTPException, OSError):
                    session.close()


def _reply_of(exc: Exception) -> tuple[int | None, str]:
    """The server's reply code and text behind an aiosmtplib error, when it was a reply."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code, exc.message
    return None, str(exc)
