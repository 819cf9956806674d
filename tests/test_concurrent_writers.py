"""Several processes share one SQLite store: a server, two command-line sends and API opens.

1,000 practices, each with a Facebook Page, a mobile and a mailbox, against local fakes of the
Graph API, GOV.UK Notify and an SMTP server. While `broadcaster serve` runs, two
`broadcaster send --all` start at once and more incidents are opened through the API. Every
delivery must settle, no post or text may arrive twice, and an email may repeat only when a
session was cut while it was in flight (the SMTP duplicate hazard no protocol can close).
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, unused_port

from tests.cli_runner import cli_env, run_cli_async, start_cli
from tests.fakes.graph_api import GraphFake
from tests.fakes.notify_api import NotifyFake
from tests.fakes.smtp_server import RunningSmtpServer, running_smtp_server
from tests.polling import eventually, eventually_async

pytestmark = pytest.mark.e2e

PRACTICES = 1000
PAGE_TOKEN = "shared-page-token-S3CRET"
API_TOKEN = "api-token-for-the-concurrency-test"
SMTP_SESSIONS = 4


def directory_yaml(count: int) -> str:
    lines = ["defaults: {facebook_provider: graph, sms_provider: notify, email_provider: smtp}", "practices:"]
    for i in range(count):
        lines += [
            f"  - ods: C{i:05d}",
            f"    name: Practice {i}",
            "    placeholders: {alt_phone: '0113 496 0000'}",
            f"    facebook: {{page_id: '{300_000_000_000 + i}', token: fb_all}}",
            f"    sms: {{recipients: ['07911 {100_000 + i}']}}",
            f"    email: {{recipients: [staff@c{i:05d}.example]}}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Fleet:
    graph: GraphFake
    notify: NotifyFake
    smtp: RunningSmtpServer
    env: dict[str, str]
    workdir: Path

    @property
    def db(self) -> Path:
        return self.workdir / "broadcaster.db"


@pytest.fixture
async def fleet(tmp_path: Path, aiohttp_server: object) -> AsyncIterator[Fleet]:
    graph = GraphFake(any_page_token=PAGE_TOKEN, latency_seconds=0.02)
    notify = NotifyFake(latency_seconds=0.02)
    graph_server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    notify_server: TestServer = await aiohttp_server(notify.app())  # type: ignore[operator]
    (tmp_path / "practices.yaml").write_text(directory_yaml(PRACTICES), encoding="utf-8")
    async with running_smtp_server(latency=0.01) as smtp:
        env = cli_env(
            tmp_path,
            directory=str(tmp_path / "practices.yaml"),
            log_format="json",
            api_token=API_TOKEN,
            port=str(unused_port()),
            graph__base_url=str(graph_server.make_url("")).rstrip("/"),
            notify__base_url=str(notify_server.make_url("")).rstrip("/"),
            notify__api_key=notify.api_key,
            notify__sms_template_id=notify.sms_template_id,
            notify__email_template_id=notify.email_template_id,
            smtp__host=smtp.host,
            smtp__port=str(smtp.port),
            smtp__security="none",
            smtp__connections=str(SMTP_SESSIONS),
            secrets__fb_all=PAGE_TOKEN,
        )
        yield Fleet(graph, notify, smtp, env, tmp_path)


def states(db: Path) -> Counter[str]:
    with sqlite3.connect(db, timeout=30) as conn:
        return Counter(dict(conn.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()))


async def open_through_api(base: str, title: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/api/incidents",
            json={
                "title": title,
                "message": "Phones are down. Use NHS 111 online.",
                "audience": {"all": True},
            },
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        ) as reply,
    ):
        return reply.status


async def test_server_cli_sends_and_api_opens_share_one_store_without_loss_or_repeats(fleet: Fleet) -> None:
    """serve + two CLI sends + five API opens, all started on a new store: all settle once."""
    base = f"http://127.0.0.1:{fleet.env['BROADCASTER_PORT']}"
    # All three processes start on a database that does not exist yet: one of them migrates.
    server = await start_cli(fleet.env, fleet.workdir, "serve")
    try:
        sends = [
            asyncio.create_task(
                run_cli_async(
                    fleet.env,
                    fleet.workdir,
                    "send",
                    "--all",
                    "--title",
                    f"CLI {n}",
                    "--message",
                    "Phones down.",
                )
            )
            for n in (1, 2)
        ]
        await eventually_async(lambda: _healthy(base), within=60)
        api_statuses = await asyncio.gather(*(open_through_api(base, f"API {n}") for n in range(1, 6)))
        cli_results = await asyncio.gather(*sends)
        assert [r.code for r in cli_results] == [0, 0], [r.err[-2000:] for r in cli_results]
        assert api_statuses == [201] * 5
        incidents = 7
        expected = incidents * PRACTICES * 3
        await eventually(lambda: states(fleet.db) == Counter(delivered=expected), within=300, every=0.5)
        # Healthy once settled; on a loaded machine a last write may still be in its backoff
        # for a moment (503 saying so), hence a short wait, and the answer shown if it stays.
        try:
            await eventually_async(lambda: _healthy(base), within=30, every=0.5)
        except TimeoutError:
            raise AssertionError(f"/healthz after every delivery settled: {await _health(base)}") from None
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(server.communicate(), timeout=60)
    assert server.returncode == 0, err.decode()[-3000:]
    assert b"database is locked" not in err

    posts_per_page = Counter(p.page_id for p in fleet.graph.posts.values())
    assert set(posts_per_page.values()) == {incidents}, "a page got a post twice or missed one"
    assert fleet.notify.duplicates_by_reference() == {}
    assert len(fleet.notify.notifications) == incidents * PRACTICES
    mail_ids = Counter(
        (m.message["Message-ID"], to) for m in fleet.smtp.recorder.received for to in m.rcpt_tos
    )
    assert len(mail_ids) == incidents * PRACTICES
    repeated = sum(n - 1 for n in mail_ids.values())
    # Only a send cut off in flight may repeat: at most one per SMTP session of each process.
    assert repeated <= SMTP_SESSIONS * 3


async def _health(base: str) -> str:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as reply:
            return f"{reply.status} {await reply.text()}"
    except aiohttp.ClientError as exc:
        return f"no answer: {exc!r}"


async def _healthy(base: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as reply:
            return reply.status == 200
    except aiohttp.ClientError:
        return False


async def test_two_cli_sends_on_a_fresh_store_both_finish(fleet: Fleet) -> None:
    """Two `send --all` at once on a new database: one migrates, both deliver everything."""
    sends = [
        run_cli_async(fleet.env, fleet.workdir, "send", "--all", "--title", f"CLI {n}", "--message", "Down.")
        for n in (1, 2)
    ]
    results = await asyncio.gather(*sends)
    assert [r.code for r in results] == [0, 0], [r.err[-2000:] for r in results]
    assert states(fleet.db) == Counter(delivered=2 * PRACTICES * 3)
