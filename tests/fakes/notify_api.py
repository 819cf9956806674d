"""A local GOV.UK Notify: JWT auth, template and recipient checks, rate limits and scripted faults.

Status codes, error types and messages follow notifications-tech-docs (error_tables/, the
REST API page) and notifications-api's auth and validators. GET /v2/notifications serves
its first page only (250, newest first). Run alone for benchmarks:

    python -m tests.fakes.notify_api --port 8502 --transient 0.02 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jwt
from aiohttp import web
from jwt.types import Options

from broadcaster.core.phone import NotAUkMobile, normalise_uk_mobile
from tests.fakes.bench_records import AcceptedMessage, run_app_until_stopped, write_records
from tests.fakes.faults import Fault, FaultPlan

# Fixed, so a benchmark in another process can build the same API key.
FAKE_SERVICE_ID = "5f1ac0de-0000-4000-8000-00000000feed"
FAKE_SECRET = "0b5e55ed-1111-4111-8111-111111111111"
FAKE_SMS_TEMPLATE_ID = "a11e0000-2222-4222-8222-222222222222"
FAKE_EMAIL_TEMPLATE_ID = "e3a10000-3333-4333-8333-333333333333"
SMS_CHAR_LIMIT = 918  # 6 concatenated GSM-7 parts of 153
TOKEN_BOUND_SECONDS = 30  # notifications-python-client authentication.__bound__
# (status, error type, message) exactly as Notify answers them.
REPLIES: dict[str, tuple[int, str, str]] = {
    "no_token": (401, "AuthError", "Unauthorized: authentication token must be provided"),
    "not_bearer": (401, "AuthError", "Unauthorized: authentication bearer scheme must be used"),
    "no_iss": (403, "AuthError", "Invalid token: iss field not provided"),
    "no_service": (403, "AuthError", "Invalid token: service not found"),
    "bad_signature": (403, "AuthError", "Invalid token: signature, api token not found"),
    "skew": (403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds"),
    "key_not_found": (403, "AuthError", "Invalid token: API key not found"),
    "team_only": (400, "BadRequestError", "Can't send to this recipient using a team-only API key"),
    "no_template": (400, "BadRequestError", "Template not found"),
    "bad_json": (400, "BadRequestError", "Invalid JSON supplied in POST data"),
    "bad_phone": (400, "ValidationError", "phone_number Not a UK mobile number"),
    "bad_email": (400, "ValidationError", "email_address Not a valid email address"),
    "bad_id": (400, "ValidationError", "notification_id is not a valid UUID"),
    "no_result": (404, "NoResultFound", "No result found"),
    "internal": (500, "Exception", "Internal server error"),
}
# What each scripted fault answers when it strikes before anything is stored.
REFUSED_BEFORE_ACTING = {
    Fault.TRANSIENT: "internal",
    Fault.TOKEN_EXPIRED: "key_not_found",
    Fault.PERMISSION: "team_only",
}
_IAT_CHECKED_BELOW: Options = {"verify_iat": False, "require": ["iat"]}  # to answer Notify's way
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class NotifyApiError(Exception):
    """Any error reply, in Notify's body shape."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def response(self) -> web.Response:
        body = {
            "errors": [{"error": self.error, "message": self.message}],
            "status_code": self.status,
        }
        return web.json_response(body, status=self.status)


def refusal(name: str) -> NotifyApiError:
    return NotifyApiError(*REPLIES[name])


@dataclass(frozen=True)
class StoredNotification:
    id: str
    kind: str  # "sms" | "email"
    to: str  # E.164 for texts, as given for emails
    reference: str | None
    template_id: str
    personalisation: dict[str, str]
    sender_id: str | None  # sms_sender_id or email_reply_to_id
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> dict[str, object]:
        """The documented get_notification_response, less the letter fields."""
        return {
            "id": self.id,
            "reference": self.reference,
            "type": self.kind,
            "status": "created",
            "phone_number": self.to if self.kind == "sms" else None,
            "email_address": self.to if self.kind == "email" else None,
            "template": self._template(),
            "body": self.personalisation.get("body", ""),
            "subject": self.personalisation.get("subject"),
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "sent_at": None,
            "completed_at": None,
        }

    def created_reply(self, origin: str) -> dict[str, object]:
        """The documented 201 body: our templates are `((body))` and `((subject))`, so the
        content is the personalisation itself."""
        sender = {"from_number": "GOVUK"} if self.kind == "sms" else {"from_email": "fake@x.invalid"}
        content = self.personalisation | sender
        uri = f"{origin}/v2/notifications/{self.id}"
        return {
            "id": self.id,
            "reference": self.reference,
            "content": content,
            "uri": uri,
            "template": self._template(),
            "scheduled_for": None,
        }

    def _template(self) -> dict[str, object]:
        return {"id": self.template_id, "version": 1, "uri": f"/v2/template/{self.template_id}"}


@dataclass
class NotifyFake:
    service_id: str = FAKE_SERVICE_ID
    secret: str = FAKE_SECRET
    sms_template_id: str = FAKE_SMS_TEMPLATE_ID
    email_template_id: str = FAKE_EMAIL_TEMPLATE_ID
    faults: FaultPlan = field(default_factory=FaultPlan)
    rate_limit_per_minute: int | None = None  # a token bucket, like notifications-utils' redis one
    rate_limit_burst: int | None = None  # Notify's bucket holds a whole minute's worth
    daily_limit: int | None = None  # per message type, like Notify's
    latency_seconds: float = 0.0
    jitter_seconds: float = 0.0
    hang_seconds: float = 30.0
    clock: Callable[[], float] = time.time  # the fake's idea of "now" for the token's iat
    notifications: list[StoredNotification] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.time() as each send arrived
    refusals: Counter[int] = field(default_factory=Counter)  # error replies by HTTP status

    def __post_init__(self) -> None:
        self._random = random.Random(self.faults.seed)
        self._capacity = float(self.rate_limit_burst or self.rate_limit_per_minute or 0)
        self._tokens, self._refilled_at = self._capacity, time.monotonic()

    @property
    def api_key(self) -> str:
        return f"broadcaster_fake-{self.service_id}-{self.secret}"

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._answer_errors])
        app.router.add_post(r"/v2/notifications/{kind:sms|email}", self._create)
        app.router.add_get("/v2/notifications", self._list)
        app.router.add_get("/v2/notifications/{id}", self._get_one)
        return app

    def write_records(self, path: Path) -> None:
        """Dump every stored notification and send arrival for a benchmark (bench_records)."""
        accepted = (
            AcceptedMessage(
                n.created_at.timestamp(), n.kind, n.to, n.reference or n.id,
                n.personalisation.get("body", ""),
            )
            for n in self.notifications
        )  # fmt: skip
        write_records(path, accepted=accepted, arrivals=self.arrivals,
                      injected=self.faults.injected, refusals=self.refusals)  # fmt: skip

    def messages_to(self, recipient: str) -> list[StoredNotification]:
        return [n for n in self.notifications if n.to == recipient]

    def duplicates_by_reference(self) -> dict[str, int]:
        """References stored more than once: each is a message a recipient got twice."""
        counts = Counter(n.reference for n in self.notifications if n.reference)
        return {ref: count for ref, count in counts.items() if count > 1}

    @web.middleware
    async def _answer_errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotifyApiError as error:
            self.refusals[error.status] += 1
            return error.response()

    def _authenticate(self, request: web.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if not token:
            raise refusal("no_token")
        if scheme.lower() != "bearer":
            raise refusal("not_bearer")
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
            if issuer is None:
                raise refusal("no_iss")
            if issuer != self.service_id:
                raise refusal("no_service")
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options=_IAT_CHECKED_BELOW)
        except jwt.PyJWTError:
            raise refusal("bad_signature") from None
        if abs(self.clock() - float(claims["iat"])) > TOKEN_BOUND_SECONDS:
            raise refusal("skew")

    async def _create(self, request: web.Request) -> web.Response:
        self.arrivals.append(time.time())
        await asyncio.sleep(self.latency_seconds + self._random.uniform(0, self.jitter_seconds))
        self._authenticate(request)
        kind = request.match_info["kind"]
        body = await _json_object(request)
        to_field = "phone_number" if kind == "sms" else "email_address"
        for required in (to_field, "template_id"):
            if not isinstance(body.get(required), str):
                raise NotifyApiError(400, "ValidationError", f"{required} is a required property")
        self._check_limits(kind)
        personalisation = self._check_template(kind, body)
        to = _valid_recipient(kind, str(body[to_field]))
        fault = self.faults.next_fault(f"{kind}:{to}")
        if fault is Fault.THROTTLE:
            raise _rate_limited(self.rate_limit_per_minute or 3000)
        if fault in REFUSED_BEFORE_ACTING:
            raise refusal(REFUSED_BEFORE_ACTING[fault])
        sender = body.get("sms_sender_id" if kind == "sms" else "email_reply_to_id")
        reference, template_id = body.get("reference"), str(body["template_id"])
        stored = StoredNotification(
            str(uuid.uuid4()),
            kind,
            to,
            _str_or_none(reference),
            template_id,
            personalisation,
            _str_or_none(sender),
        )
        self.notifications.append(stored)
        if fault is Fault.ACT_THEN_ERROR:
            raise refusal("internal")
        if fault is Fault.ACT_THEN_TIMEOUT:
            await asyncio.sleep(self.hang_seconds)
        return web.json_response(stored.created_reply(str(request.url.origin())), status=201)

    def _check_limits(self, kind: str) -> None:
        if self.rate_limit_per_minute:
            now = time.monotonic()
            refill = (now - self._refilled_at) * self.rate_limit_per_minute / 60.0
            self._tokens, self._refilled_at = min(self._capacity, self._tokens + refill), now
            if self._tokens < 1:
                raise _rate_limited(self.rate_limit_per_minute)
            self._tokens -= 1
        sent_today = sum(1 for n in self.notifications if n.kind == kind)
        if self.daily_limit is not None and sent_today >= self.daily_limit:
            message = f"Exceeded send limits ({kind}: {self.daily_limit}) for today"
            raise NotifyApiError(429, "TooManyRequestsError", message)

    def _check_template(self, kind: str, body: dict[str, object]) -> dict[str, str]:
        if body["template_id"] != (self.sms_template_id if kind == "sms" else self.email_template_id):
            raise refusal("no_template")
        raw = body.get("personalisation")
        personalisation = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        for placeholder in ("body",) if kind == "sms" else ("subject", "body"):
            if placeholder not in personalisation:
                message = f"Missing personalisation: {placeholder}"
                raise NotifyApiError(400, "BadRequestError", message)
        length = len(personalisation["body"])
        if kind == "sms" and length > SMS_CHAR_LIMIT:
            # A BadRequestError in real Notify (notifications-api validators.py), not validation.
            message = (
                f"Your message is too long. Text messages cannot be longer than {SMS_CHAR_LIMIT} "
                f"characters. Your message is {length} characters long."
            )
            raise NotifyApiError(400, "BadRequestError", message)
        return personalisation

    async def _list(self, request: web.Request) -> web.Response:
        self._authenticate(request)
        reference, kind = request.query.get("reference"), request.query.get("template_type")
        if kind is not None and kind not in ("sms", "email", "letter"):
            message = f"{kind} is not one of [sms, email, letter]"
            raise NotifyApiError(400, "ValidationError", message)
        found = [
            n.to_json()
            for n in reversed(self.notifications)
            if reference in (None, n.reference) and kind in (None, n.kind)
        ]
        links = {"current": str(request.rel_url)}
        return web.json_response({"notifications": found[:250], "links": links})

    async def _get_one(self, request: web.Request) -> web.Response:
        self._authenticate(request)
        wanted = request.match_info["id"]
        if not _UUID.match(wanted):
            raise refusal("bad_id")
        for notification in self.notifications:
            if notification.id == wanted:
                return web.json_response(notification.to_json())
        raise refusal("no_result")


async def _json_object(request: web.Request) -> dict[str, object]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise refusal("bad_json")
    return body


def _valid_recipient(kind: str, raw: str) -> str:
    if kind == "email":
        if not _EMAIL.match(raw):
            raise refusal("bad_email")
        return raw
    try:
        return normalise_uk_mobile(raw)  # lets Notify's 07700 900xxx test numbers through
    except NotAUkMobile:
        raise refusal("bad_phone") from None


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _rate_limited(per_minute: int) -> NotifyApiError:
    message = f"Exceeded rate limit for key type LIVE of {per_minute} requests per 60 seconds"
    return NotifyApiError(429, "RateLimitError", message)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local GOV.UK Notify for benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    for name in ("transient", "throttle", "latency", "jitter"):  # fault rates 0-1, seconds
        parser.add_argument(f"--{name}", type=float, default=0.0)
    for name in ("rate-limit", "daily-limit"):  # requests per minute, messages per day
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dump", type=Path, help="on exit, write what was received here (JSON)")
    args = parser.parse_args(argv)
    plan = FaultPlan(transient_rate=args.transient, throttle_rate=args.throttle, seed=args.seed)
    fake = NotifyFake(
        faults=plan,
        rate_limit_per_minute=args.rate_limit,
        latency_seconds=args.latency,
        jitter_seconds=args.jitter,
        daily_limit=args.daily_limit,
    )
    sys.stdout.write(f"notify fake on http://{args.host}:{args.port} api_key={fake.api_key}\n")
    run_app_until_stopped(
        fake.app(), host=args.host, port=args.port, dump=args.dump, write=fake.write_records
    )


if __name__ == "__main__":
    main()
