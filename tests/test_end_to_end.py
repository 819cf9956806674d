"""The whole product through its real CLI, against local Graph API, Notify and SMTP servers.

50 practices; an incident, two updates and a resolve; 20% of provider writes fail transiently,
some are throttled with a hint, and one Facebook post times out after it was actually made.
Afterwards each page has exactly one post carrying its comments, each mailbox a correctly
threaded series, each phone the texts the SMS policy allows, and nothing arrived twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.cli_runner import CliResult, cli_env, run_cli_async
from tests.fakes.faults import Fault, FaultPlan
from tests.fakes.graph_api import GraphFake
from tests.fakes.notify_api import NotifyFake
from tests.fakes.smtp_server import RunningSmtpServer, running_smtp_server

pytestmark = pytest.mark.e2e

PRACTICES = 50
TITLE = "Phone lines down"
AMBIGUOUS_PRACTICE = 7  # its first post is made, but the reply never arrives in time


@dataclass(frozen=True)
class FakePractice:
    ods: str
    page_id: str
    token: str
    mobiles: tuple[str, ...]
    emails: tuple[str, ...]


def fake_practices() -> list[FakePractice]:
    out = []
    for i in range(PRACTICES):
        # Drama-range numbers (+447700900000-999): one or two per practice.
        mobiles = tuple(f"+447700900{(i * 2 + k):03d}" for k in range(1 + i % 2))
        emails = tuple(f"staff{k}@p{i:02d}.example" for k in range(1 + (i + 1) % 2))
        out.append(
            FakePractice(
                ods=f"E{84000 + i:05d}",
                page_id=f"{100000000000000 + i}",
                token=f"page-token-{i:02d}-S3CRET",
                mobiles=mobiles,
                emails=emails,
            )
        )
    return out


def directory_yaml(practices: list[FakePractice]) -> str:
    lines = ["practices:"]
    for p in practices:
        lines += [
            f"  - ods: {p.ods}",
            f"    name: Practice {p.ods}",
            "    placeholders: {alt_phone: '0113 496 0000'}",
            f"    facebook: {{page_id: '{p.page_id}', token: fb_{p.ods.lower()}}}",
            f"    sms: {{recipients: [{', '.join(repr(m) for m in p.mobiles)}]}}",
            f"    email: {{recipients: [{', '.join(p.emails)}]}}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class World:
    graph: GraphFake
    notify: NotifyFake
    smtp: RunningSmtpServer
    env: dict[str, str]
    workdir: Path
    practices: list[FakePractice]

    outputs: list[str]

    async def cli(self, *args: str) -> CliResult:
        """Run `broadcaster --log-level debug ARGS` as a user would, keeping what it printed."""
        result = await run_cli_async(self.env, self.workdir, "--log-level", "debug", *args)
        self.outputs += [result.out, result.err]
        return result

    def secrets(self) -> list[str]:
        return [p.token for p in self.practices] + [self.notify.api_key, self.notify.secret]


@pytest.fixture
async def world(tmp_path: Path, aiohttp_server: object) -> AsyncIterator[World]:
    practices = fake_practices()
    graph = GraphFake(
        plan=FaultPlan(transient_rate=0.2, throttle_rate=0.05, throttle_hint_seconds=0.5, seed=11),
        hang_seconds=3.0,
    )
    for p in practices:
        graph.add_page(p.page_id, p.token)
    graph.plan.script(f"feed:{practices[AMBIGUOUS_PRACTICE].page_id}", Fault.ACT_THEN_TIMEOUT)
    notify = NotifyFake(faults=FaultPlan(transient_rate=0.2, throttle_rate=0.05, seed=12))
    graph_server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    notify_server: TestServer = await aiohttp_server(notify.app())  # type: ignore[operator]
    (tmp_path / "practices.yaml").write_text(directory_yaml(practices), encoding="utf-8")
    async with running_smtp_server(plan=FaultPlan(transient_rate=0.2, seed=13)) as smtp:
        env = cli_env(
            tmp_path,
            directory=str(tmp_path / "practices.yaml"),
            log_format="json",
            graph__base_url=str(graph_server.make_url("")).rstrip("/"),
            graph__timeout_seconds="1",
            notify__base_url=str(notify_server.make_url("")).rstrip("/"),
            notify__api_key=notify.api_key,
            notify__sms_template_id=notify.sms_template_id,
            notify__email_template_id=notify.email_template_id,
            smtp__host=smtp.host,
            smtp__port=str(smtp.port),
            smtp__security="none",
            retry__initial_seconds="0.1",
            retry__jitter_seconds="0.2",
            retry__max_backoff_seconds="2",
            retry__max_attempts="20",
            **{f"secrets__fb_{p.ods}": p.token for p in practices},
        )
        yield World(graph, notify, smtp, env, tmp_path, practices, outputs=[])


def trigger_to_last_delivery(db: Path, seq: int) -> float:
    with sqlite3.connect(db) as conn:
        created, last = conn.execute(
            "SELECT MIN(u.created_at), MAX(d.delivered_at) FROM updates u "
            "JOIN deliveries d ON d.update_id = u.id WHERE u.seq = ?",
            (seq,),
        ).fetchone()
    return float(last - created)


async def test_incident_with_updates_reaches_every_practice_once_and_threaded(world: World) -> None:
    """Open, two updates, resolve: every channel threaded, policy-correct, nothing twice."""
    opened = await world.cli(
        "send",
        "--title",
        TITLE,
        "--all",
        "--message",
        "Our phone lines are down. Call {alt_phone} or use NHS 111 online.",
    )
    assert opened.code == 0, opened.err
    expected = sum(1 + len(p.mobiles) + len(p.emails) for p in world.practices)
    assert f"Opened INC-1: {expected} messages to send." in opened.out
    for status, text in [
        ("identified", "The phone company has found the fault."),
        ("monitoring", "Lines are coming back; we are watching them."),
    ]:
        updated = await world.cli("update", "INC-1", "--status", status, text)
        assert updated.code == 0, updated.err
    resolved = await world.cli("resolve", "INC-1", "Phone lines are working again.")
    assert resolved.code == 0, resolved.err

    assert (
        f"feed:{world.practices[AMBIGUOUS_PRACTICE].page_id}",
        Fault.ACT_THEN_TIMEOUT,
    ) in world.graph.plan.injected
    assert_facebook_threads(world)
    assert_email_threads(world)
    assert_texts_follow_policy(world)

    status = await world.cli("status", "INC-1")
    assert status.code == 0
    assert "failed" not in status.out
    assert "retrying" not in status.out
    logs = "\n".join(world.outputs)
    assert '"event": "delivery_sent"' in logs  # debug logging was really on
    leaked = [s for s in world.secrets() if s in logs]
    assert leaked == [], "a secret appeared in the CLI's output or logs"
    timings = {seq: trigger_to_last_delivery(world.workdir / "broadcaster.db", seq) for seq in range(4)}
    print(  # noqa: T201  # the figure quoted in the issue note; shown with -s
        f"\n50 practices, 20% transient faults: trigger -> last delivery per update (s): "
        f"{ {k: round(v, 2) for k, v in timings.items()} }"
    )


def assert_facebook_threads(world: World) -> None:
    for p in world.practices:
        posts = world.graph.posts_on(p.page_id)
        assert len(posts) == 1, f"{p.ods} has {len(posts)} posts"
        post = posts[0]
        assert post.message.splitlines()[0] == f"RESOLVED: {TITLE}"
        assert "Ref INC-1" in post.message
        markers = [c.message.rsplit("\n", 1)[-1] for c in post.comments]
        assert markers == ["Ref INC-1.1", "Ref INC-1.2", "Ref INC-1.3"], p.ods


def assert_email_threads(world: World) -> None:
    for p in world.practices:
        for address in p.emails:
            mails = world.smtp.recorder.to(address)
            assert len(mails) == 4, f"{address} got {len(mails)} emails"
            ids = [m["Message-ID"] for m in mails]
            assert len(set(ids)) == 4
            assert {m["Subject"] for m in mails} == {f"[INC-1] {TITLE}"}
            assert mails[0]["In-Reply-To"] is None
            for k in range(1, 4):
                assert mails[k]["In-Reply-To"] == ids[k - 1]
                assert mails[k]["References"].split() == ids[:k]


def assert_texts_follow_policy(world: World) -> None:
    assert world.notify.duplicates_by_reference() == {}
    for p in world.practices:
        for number in p.mobiles:
            texts = [n.personalisation["body"] for n in world.notify.messages_to(number) if n.kind == "sms"]
            # By default texts go out only when the incident opens and when it is resolved.
            assert len(texts) == 2, f"{number} got {texts}"
            assert texts[0].startswith(f"Practice {p.ods}: Our phone lines are down")
            assert texts[1] == f"Resolved: Practice {p.ods}: Phone lines are working again."
