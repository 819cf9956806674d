"""The machine's limit: plain aiohttp and aiosmtplib sending the same requests, with nothing else.

    python -m bench.bare_client SPEC.json RESULT.json

Same texts (our renderer runs before the clock starts), same providers, same requests in flight
per provider as our dispatcher (that many workers each, taking messages in order); no store, no
retries, no logging, no classification.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import asdict, dataclass
from email.mime.text import MIMEText
from email.utils import formatdate
from pathlib import Path

import aiohttp
import aiosmtplib

from bench.client_spec import GRAPH_VERSION, NOTIFY_API_KEY, NOTIFY_SMS_TEMPLATE, ClientResult, ClientSpec
from bench.process_stats import EffortMeter
from bench.scenario import OPENING_TEXT, PAGE_TOKEN, UPDATE_TEXT, BenchPractice, bench_practices
from broadcaster.content.render import ChannelTexts, UpdateHeading, render_for_practice
from broadcaster.core.models import ChannelKind, IncidentStatus
from broadcaster.directory.practices import Practice, load_directory
from channels.facebook.page_channel import edited_post_text
from channels.notify.auth import authorization_header, parse_api_key

FROM = "incident-alerts@bench.invalid"
TITLE = "Phone lines down"


@dataclass(frozen=True, slots=True)
class Texts:
    """One practice's rendered texts for one message of the thread."""

    facebook: str
    headline: str | None
    sms: str
    subject: str
    email: str


def render_all(practices: Sequence[Practice], status: IncidentStatus, seq: int, text: str) -> list[Texts]:
    heading = UpdateHeading("INC-1", TITLE, seq, status)
    out = []
    for practice in practices:
        r = render_for_practice(heading, ChannelTexts.same_everywhere(text), practice)
        fb, email = r[ChannelKind.FACEBOOK], r[ChannelKind.EMAIL]
        out.append(Texts(fb.body, fb.headline, r[ChannelKind.SMS].body, email.subject or TITLE, email.body))
    return out


Jobs = dict[str, list[Awaitable[object]]]  # per provider: "graph", "notify", "smtp"


class BareSender:
    """One request per message; SMTP over a pool of long-lived sessions."""

    def __init__(self, spec: ClientSpec, session: aiohttp.ClientSession) -> None:
        self._spec, self._session = spec, session
        self._smtp: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        for _ in range(spec.concurrency.smtp):
            self._smtp.put_nowait(aiosmtplib.SMTP(hostname="127.0.0.1", port=spec.smtp_port, start_tls=False))
        self._notify_key = parse_api_key(NOTIFY_API_KEY)
        self.delivered = self.failed = 0

    async def graph(self, path: str, message: str) -> str | None:
        """The created object's id, None if refused; counting is the caller's."""
        url = f"{self._spec.graph_url}/{GRAPH_VERSION}/{path}"
        async with self._session.post(url, data={"message": message, "access_token": PAGE_TOKEN}) as r:
            body = await r.json()
        return body.get("id") if r.status == 200 else None

    async def sms(self, number: str, body: str, reference: str) -> None:
        payload = {
            "phone_number": number,
            "template_id": NOTIFY_SMS_TEMPLATE,
            "personalisation": {"body": body},
            "reference": reference,
        }
        url = f"{self._spec.notify_url}/v2/notifications/sms"
        auth = {"Authorization": authorization_header(self._notify_key, time.time)}
        async with self._session.post(url, json=payload, headers=auth) as r:
            await r.read()
        self.count(r.status == 201)

    async def email(self, to: str, subject: str, body: str, message_id: str, replies_to: str | None) -> None:
        mail = MIMEText(body, "plain", "utf-8")
        mail["Message-ID"], mail["Date"], mail["Subject"] = message_id, formatdate(), subject
        mail["From"], mail["To"] = FROM, to
        if replies_to:
            mail["In-Reply-To"] = mail["References"] = replies_to
        session = await self._smtp.get()
        try:
            if not session.is_connected:
                await session.connect()
            await session.send_message(mail, sender=FROM, recipients=[to])
            self.count(True)
        except aiosmtplib.SMTPException:
            self.count(False)
        finally:
            self._smtp.put_nowait(session)

    def count(self, ok: bool) -> None:
        if ok:
            self.delivered += 1
        else:
            self.failed += 1

    async def close(self) -> None:
        while not self._smtp.empty():
            session = self._smtp.get_nowait()
            if session.is_connected:
                await session.quit()


def opening_jobs(
    sender: BareSender,
    practices: list[BenchPractice],
    texts: list[Texts],
    posts: dict[str, str],
    texts_only: bool,
) -> Jobs:
    jobs: Jobs = {"graph": [], "notify": [], "smtp": []}
    for i, (p, t) in enumerate(zip(practices, texts, strict=True)):
        if not texts_only:
            jobs["graph"].append(_remember_post(sender, p.page_id, t.facebook, posts))
            jobs["smtp"] += [
                sender.email(e, t.subject, t.email, f"<inc-1.0.{i}.{k}@bench.invalid>", None)
                for k, e in enumerate(p.emails)
            ]
        jobs["notify"] += [sender.sms(m, t.sms, f"INC-1:0:{i}:{k}") for k, m in enumerate(p.mobiles)]
    return jobs


async def _remember_post(sender: BareSender, page_id: str, text: str, posts: dict[str, str]) -> None:
    post_id = await sender.graph(f"{page_id}/feed", text)
    sender.count(post_id is not None)
    if post_id is not None:
        posts[page_id] = post_id


def update_jobs(
    sender: BareSender,
    practices: list[BenchPractice],
    texts: list[Texts],
    opening: list[Texts],
    posts: dict[str, str],
) -> Jobs:
    jobs: Jobs = {"graph": [], "notify": [], "smtp": []}
    for i, (p, t, first) in enumerate(zip(practices, texts, opening, strict=True)):
        edited = edited_post_text(t.headline or "", first.facebook)
        jobs["graph"].append(_comment_then_edit(sender, posts[p.page_id], t.facebook, edited))
        jobs["notify"] += [sender.sms(m, t.sms, f"INC-1:1:{i}:{k}") for k, m in enumerate(p.mobiles)]
        jobs["smtp"] += [
            sender.email(
                e, t.subject, t.email, f"<inc-1.1.{i}.{k}@bench.invalid>", f"<inc-1.0.{i}.{k}@bench.invalid>"
            )
            for k, e in enumerate(p.emails)
        ]
    return jobs


async def send_all(jobs: Jobs, spec: ClientSpec) -> None:
    """Each provider's messages in order, by as many workers as our dispatcher has in flight."""
    c = spec.concurrency
    await asyncio.gather(
        _workers(jobs["graph"], c.graph), _workers(jobs["notify"], c.notify), _workers(jobs["smtp"], c.smtp)
    )


async def _workers(jobs: Iterable[Awaitable[object]], count: int) -> None:
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:  # shared: each worker takes the next message when it is free
            await job

    await asyncio.gather(*(worker() for _ in range(count)))


async def _comment_then_edit(sender: BareSender, post_id: str, comment: str, edited: str) -> None:
    """As the product does: the comment is the delivery; the status-line edit follows it."""
    sender.count(await sender.graph(f"{post_id}/comments", comment) is not None)
    await sender.graph(post_id, edited)


async def run(spec: ClientSpec) -> ClientResult:
    practices = bench_practices(spec.practices)
    directory = load_directory(Path(spec.directory)).practices  # the texts ours renders, too
    opening = render_all(directory, IncidentStatus.INVESTIGATING, 0, OPENING_TEXT)
    update = render_all(directory, IncidentStatus.IDENTIFIED, 1, UPDATE_TEXT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sender, posts, meter = BareSender(spec, session), dict[str, str](), EffortMeter()
        trigger = meter.start()
        await send_all(opening_jobs(sender, practices, opening, posts, spec.texts_only), spec)
        opening_done = time.time()
        if not spec.texts_only:
            await send_all(update_jobs(sender, practices, update, opening, posts), spec)
        finished = time.time()
        effort = await meter.finish()
        await sender.close()
    return ClientResult(
        trigger=trigger,
        written=None,
        update_posted=None if spec.texts_only else opening_done,
        finished=finished,
        **asdict(effort),
    )


def main() -> None:
    spec_path, result_path = (Path(arg) for arg in sys.argv[1:3])
    asyncio.run(run(ClientSpec.load(spec_path))).save(result_path)


if __name__ == "__main__":
    main()
