"""A fake SMTP server (aiosmtpd) in the caller's event loop: records mail, replays scripted faults.

In a test:  `async with running_smtp_server(plan=plan) as smtp: ... smtp.recorder.received`
Standalone: `python -m tests.fakes.smtp_server --port 8025 --latency 0.1 --transient-rate 0.05`
(add `--dump FILE` to get what it received as JSON when it stops, for a benchmark).

Faults come from a FaultPlan keyed "email:{recipient}", drawn once per RCPT.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import random
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal, cast

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.fakes.bench_records import AcceptedMessage, write_records
from tests.fakes.faults import Fault, FaultPlan

Stage = Literal["rcpt", "data"]

# What each fault looks like from an SMTP server (RFC 5321 reply codes, RFC 3463 detail).
FAULT_REPLIES: dict[Fault, str] = {
    Fault.TRANSIENT: "451 4.3.0 Try again later",
    Fault.THROTTLE: "450 4.7.1 Rate limited, try again later",
    Fault.PERMISSION: "550 5.1.1 Mailbox unavailable",
    Fault.TOKEN_EXPIRED: "530 5.7.0 Authentication required",
}
# The message is kept, then the client is told it failed: the duplicate hazard for SMTP.
ACCEPT_THEN_FAIL = "421 4.4.2 Connection lost after data"
_MAY_WAIT_FOR_DATA = {Fault.TRANSIENT, Fault.THROTTLE}
_ACT_FAULTS = {Fault.ACT_THEN_ERROR, Fault.ACT_THEN_TIMEOUT}


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    at: float  # time.time() when it was accepted


@dataclass
class MailRecorder:
    """What the server saw: accepted mail, refused messages' Message-IDs, connections."""

    received: list[ReceivedMail] = field(default_factory=list)
    refused_at_data: list[str] = field(default_factory=list)  # Message-IDs refused after DATA
    connections: int = 0
    logins: list[str] = field(default_factory=list)  # usernames that logged in
    arrivals: list[float] = field(default_factory=list)  # time.time() of every MAIL FROM

    def to(self, recipient: str) -> list[EmailMessage]:
        return [m.message for m in self.received if recipient in m.rcpt_tos]

    def write_records(self, path: Path, plan: FaultPlan) -> None:
        """Dump every accepted message and MAIL FROM arrival for a benchmark (bench_records)."""
        accepted = (
            AcceptedMessage(m.at, "email", ",".join(m.rcpt_tos), str(m.message["Message-ID"]),
                            _plain_text(m.message))
            for m in self.received
        )  # fmt: skip
        write_records(path, accepted=accepted, arrivals=self.arrivals, injected=plan.injected)


def _plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


class FakeSmtpHandler:
    """aiosmtpd handler hooks: fault injection at RCPT or DATA, optional required login."""

    def __init__(
        self,
        *,
        plan: FaultPlan,
        recorder: MailRecorder,
        transient_at: Stage = "rcpt",
        latency: float = 0.0,
        credentials: tuple[str, str] | None = None,
        jitter: float = 0.0,
    ) -> None:
        self.plan = plan
        self.recorder = recorder
        self.transient_at = transient_at
        self.latency = latency
        self.credentials = credentials
        self.jitter = jitter  # extra random 0..jitter seconds per message
        self._random = random.Random(plan.seed)
        self._data_faults: dict[int, Fault] = {}  # id(envelope) -> fault to answer at DATA

    async def handle_MAIL(  # noqa: N802 - aiosmtpd finds hooks by this exact name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        self.recorder.arrivals.append(time.time())
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd finds hooks by this exact name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        fault = self.plan.next_fault(f"email:{address}")
        at_data = fault in _ACT_FAULTS or (fault in _MAY_WAIT_FOR_DATA and self.transient_at == "data")
        if at_data:
            self._data_faults[id(envelope)] = fault
        elif fault in FAULT_REPLIES:
            return FAULT_REPLIES[fault]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd finds hooks by this exact name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.latency or self.jitter:
            await asyncio.sleep(self.latency + self._random.uniform(0.0, self.jitter))
        raw = cast(bytes, envelope.original_content)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        fault = self._data_faults.pop(id(envelope), Fault.NONE)
        if fault in FAULT_REPLIES:
            self.recorder.refused_at_data.append(str(parsed["Message-ID"]))
            return FAULT_REPLIES[fault]
        mail = ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed, time.time())
        self.recorder.received.append(mail)
        return ACCEPT_THEN_FAIL if fault is not Fault.NONE else "250 2.0.0 OK queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.credentials is not None
            and (data.login.decode(), data.password.decode()) == self.credentials
        )
        if ok:
            self.recorder.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # False: aiosmtpd sends the 535 itself


@dataclass
class RunningSmtpServer:
    host: str
    port: int
    recorder: MailRecorder
    plan: FaultPlan
    _protocols: list[SMTP]

    def drop_connections(self) -> None:
        """Close every open session from the server side, as a server's idle timeout would."""
        for protocol in self._protocols:
            if protocol.transport is not None:
                protocol.transport.close()


@asynccontextmanager
async def running_smtp_server(
    *,
    plan: FaultPlan | None = None,
    transient_at: Stage = "rcpt",
    latency: float = 0.0,
    credentials: tuple[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    jitter: float = 0.0,
) -> AsyncIterator[RunningSmtpServer]:
    """Serve SMTP on (host, free port) in this event loop until the block exits."""
    plan = plan or FaultPlan()
    recorder = MailRecorder()
    handler = FakeSmtpHandler(
        plan=plan,
        recorder=recorder,
        transient_at=transient_at,
        latency=latency,
        credentials=credentials,
        jitter=jitter,
    )
    protocols: list[SMTP] = []

    def new_session() -> SMTP:
        recorder.connections += 1
        protocol = SMTP(
            handler,
            hostname="fake-smtp.test",  # the default asks DNS, which would block the loop
            authenticator=handler.authenticate,
            auth_require_tls=False,  # tests speak plain TCP to 127.0.0.1
            loop=asyncio.get_running_loop(),
        )
        protocols.append(protocol)
        return protocol

    server = await asyncio.get_running_loop().create_server(new_session, host, port)
    bound_port = server.sockets[0].getsockname()[1]
    running = RunningSmtpServer(host, bound_port, recorder, plan, protocols)
    try:
        yield running
    finally:
        server.close()
        running.drop_connections()
        await server.wait_closed()


async def _serve_until_stopped(args: argparse.Namespace) -> None:
    plan = FaultPlan(transient_rate=args.transient_rate, throttle_rate=args.throttle_rate, seed=args.seed)
    credentials = (args.user, args.password) if args.user else None
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # how a benchmark script ends it
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with running_smtp_server(
        plan=plan,
        latency=args.latency,
        credentials=credentials,
        host=args.host,
        port=args.port,
        transient_at=args.transient_at,
        jitter=args.jitter,
    ) as smtp:
        sys.stdout.write(f"fake SMTP listening on {smtp.host}:{smtp.port}\n")
        sys.stdout.flush()
        await stop.wait()
        received = len(smtp.recorder.received)
        sys.stdout.write(f"received {received} messages, injected {len(plan.injected)} faults\n")
        if args.dump is not None:
            smtp.recorder.write_records(args.dump, plan)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per message")
    parser.add_argument("--transient-rate", type=float, default=0.0, help="share answered 451")
    parser.add_argument("--transient-at", choices=["rcpt", "data"], default="rcpt")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="share answered 450")
    parser.add_argument("--jitter", type=float, default=0.0, help="extra random 0..N seconds")
    parser.add_argument("--dump", type=Path, help="on exit, write what was received here (JSON)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--user", help="require AUTH with this user name")
    parser.add_argument("--password", default="")
    args = parser.parse_args(argv)
    asyncio.run(_serve_until_stopped(args))


if __name__ == "__main__":
    main()
