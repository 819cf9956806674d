"""A resolved incident takes no more updates until someone reopens it: through the real CLI,
against local Graph API, Notify and SMTP servers, with what each provider received counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.cli_runner import CliResult, cli_env, run_cli, run_cli_async, start_cli
from tests.fakes.graph_api import GraphFake
from tests.fakes.notify_api import NotifyFake
from tests.fakes.smtp_server import RunningSmtpServer, running_smtp_server

PRACTICES = 3
TITLE = "Phone lines down"


def page_id(i: int) -> str:
    return f"{200000000000000 + i}"


def mobile(i: int) -> str:
    return f"+447700900{i:03d}"


def mailbox(i: int) -> str:
    return f"manager@p{i}.example"


def directory_yaml() -> str:
    lines = ["practices:"]
    for i in range(PRACTICES):
        lines += [
            f"  - ods: E{85000 + i}",
            f"    name: Practice {i}",
            f"    facebook: {{page_id: '{page_id(i)}', token: fb_page}}",
            f"    sms: {{recipients: ['{mobile(i)}']}}",
            f"    email: {{recipients: [{mailbox(i)}]}}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Providers:
    graph: GraphFake
    notify: NotifyFake
    smtp: RunningSmtpServer
    env: dict[str, str]
    workdir: Path

    async def cli(self, *args: str) -> CliResult:
        return await run_cli_async(self.env, self.workdir, *args, within=120)

    def texts_to(self, i: int) -> list[str]:
        return [n.personalisation["body"] for n in self.notify.messages_to(mobile(i)) if n.kind == "sms"]

    def sent_count(self) -> int:
        """Everything any provider accepted: posts, edits, comments, texts and emails."""
        return len(self.graph.writes) + len(self.notify.notifications) + len(self.smtp.recorder.received)


@pytest.fixture
async def providers(tmp_path: Path, aiohttp_server: object) -> AsyncIterator[Providers]:
    graph = GraphFake()
    for i in range(PRACTICES):
        graph.add_page(page_id(i), "page-token-S3CRET")
    notify = NotifyFake()
    graph_server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    notify_server: TestServer = await aiohttp_server(notify.app())  # type: ignore[operator]
    (tmp_path / "practices.yaml").write_text(directory_yaml(), encoding="utf-8")
    async with running_smtp_server() as smtp:
        env = cli_env(
            tmp_path,
            directory=str(tmp_path / "practices.yaml"),
            graph__base_url=str(graph_server.make_url("")).rstrip("/"),
            notify__base_url=str(notify_server.make_url("")).rstrip("/"),
            notify__api_key=notify.api_key,
            notify__sms_template_id=notify.sms_template_id,
            notify__email_template_id=notify.email_template_id,
            smtp__host=smtp.host,
            smtp__port=str(smtp.port),
            smtp__security="none",
            secrets__fb_page="page-token-S3CRET",
        )
        yield Providers(graph, notify, smtp, env, tmp_path)


async def open_and_resolve(providers: Providers) -> None:
    opened = await providers.cli("send", "--title", TITLE, "--all", "--message", "Call 111 meanwhile.")
    assert opened.code == 0, opened.err
    resolved = await providers.cli("resolve", "INC-1", "Phone lines are working again.")
    assert resolved.code == 0, resolved.err


REFUSED = "INC-1 is resolved; run `broadcaster reopen INC-1"


async def test_second_resolve_is_refused_and_only_one_resolved_text_arrives(providers: Providers) -> None:
    """Resolving twice: the second exits 2 saying how to reopen; each phone gets one "Resolved"."""
    await open_and_resolve(providers)
    again = await providers.cli("resolve", "INC-1", "Really working now.")
    assert again.code == 2, again.err
    assert REFUSED in again.err
    for i in range(PRACTICES):
        assert providers.texts_to(i) == [
            f"Practice {i}: Call 111 meanwhile.",
            f"Resolved: Practice {i}: Phone lines are working again.",
        ]


async def test_update_after_resolve_is_refused_and_nothing_is_sent(providers: Providers) -> None:
    """`update --status investigating` after resolve: exit 2, and no provider hears of it."""
    await open_and_resolve(providers)
    before = providers.sent_count()
    late = await providers.cli("update", "INC-1", "--status", "investigating", "--sms", "Down again?")
    assert late.code == 2, late.err
    assert REFUSED in late.err
    assert providers.sent_count() == before
    shown = await providers.cli("status", "INC-1")
    assert "status: resolved" in shown.out


async def test_reopen_then_update_lands_in_the_same_threads(providers: Providers) -> None:
    """Reopen: a "Reopened:" comment, text and threaded email; a later update follows it."""
    await open_and_resolve(providers)
    reopened = await providers.cli("reopen", "INC-1", "The lines have dropped again.")
    assert reopened.code == 0, reopened.err
    assert "Reopened INC-1 with update 2 to INC-1: 9 messages to send." in reopened.out
    update = await providers.cli("update", "INC-1", "--status", "monitoring", "Back, watching them.")
    assert update.code == 0, update.err
    for i in range(PRACTICES):
        (post,) = providers.graph.posts_on(page_id(i))
        assert post.message.splitlines()[0] == f"UPDATE (Service restored, monitoring): {TITLE}"
        assert [c.message.split(":")[0] for c in post.comments] == [
            "Resolved",
            "Reopened",
            "Update (Service restored, monitoring)",
        ]
        assert post.comments[1].message.startswith("Reopened: The lines have dropped again.")
        # Told "Resolved" by text, so told by text that it is back; the update follows the policy.
        assert providers.texts_to(i)[2:] == [f"Reopened: Practice {i}: The lines have dropped again."]
        mails = providers.smtp.recorder.to(mailbox(i))
        ids = [m["Message-ID"] for m in mails]
        assert len(mails) == 4
        assert {m["Subject"] for m in mails} == {f"[INC-1] {TITLE}"}
        assert [m["In-Reply-To"] for m in mails[1:]] == ids[:-1]
        assert "Update 2 - Reopened, Investigating" in mails[2].get_content()


async def test_reopening_an_incident_that_is_not_resolved_is_refused(providers: Providers) -> None:
    """Only a resolved incident can be reopened; an open one is told to take an update."""
    opened = await providers.cli("send", "--title", TITLE, "--all", "--message", "Call 111 meanwhile.")
    assert opened.code == 0, opened.err
    before = providers.sent_count()
    reopened = await providers.cli("reopen", "INC-1", "Still down.")
    assert reopened.code == 2, reopened.err
    assert (
        "INC-1 is not resolved (its status is investigating), so there is nothing to reopen" in reopened.err
    )
    assert providers.sent_count() == before


async def test_two_resolves_at_once_send_exactly_one(providers: Providers) -> None:
    """Two `broadcaster resolve` processes at once: one sends, the other is refused.

    Processes rarely overlap closely enough to reach the check under the write lock; the API's
    test of two requests in flight (tests/test_api_lifecycle.py) is the one that does.
    """
    opened = await providers.cli("send", "--title", TITLE, "--all", "--message", "Call 111 meanwhile.")
    assert opened.code == 0, opened.err
    first, second = [
        await start_cli(providers.env, providers.workdir, "resolve", "INC-1", f"Fixed ({who}).")
        for who in ("a", "b")
    ]
    outputs = await asyncio.wait_for(asyncio.gather(first.communicate(), second.communicate()), 120)
    codes = sorted([first.returncode, second.returncode])
    errors = "".join(err.decode() for _, err in outputs)
    assert codes == [0, 2], errors
    assert REFUSED in errors
    for i in range(PRACTICES):
        resolved = [t for t in providers.texts_to(i) if t.startswith("Resolved:")]
        assert len(resolved) == 1, resolved
        (post,) = providers.graph.posts_on(page_id(i))
        assert len(post.comments) == 1


def test_opening_that_would_reach_nobody_is_refused(tmp_path: Path) -> None:
    """No practice has an apprise endpoint: `send --channel apprise` exits 2 and stores nothing."""
    result = run_cli(
        tmp_path, "send", "--title", TITLE, "--message", "Call 111.", "--all", "--channel", "apprise"
    )
    assert result.code == 2, result.err
    assert "the new incident's first message would reach nobody" in result.err
    assert "no practice in the audience has recipients for apprise" in result.err
    assert "INC-1" not in run_cli(tmp_path, "list").out


def test_update_that_would_reach_nobody_is_refused_with_the_sms_hint(tmp_path: Path) -> None:
    """A texts-only incident: an update the policy does not text would reach no one, so it is refused."""
    opened = run_cli(
        tmp_path, "send", "--title", TITLE, "--message", "Call 111.", "--all", "--channel", "sms"
    )
    assert opened.code == 0, opened.err
    update = run_cli(tmp_path, "update", "INC-1", "--status", "monitoring", "Watching the lines.")
    assert update.code == 2, update.err
    assert "update 1 of INC-1 would reach nobody" in update.err
    assert "add --sms" in update.err
    shown = run_cli(tmp_path, "status", "INC-1")
    assert "Showing update 0 (investigating) of 1" in shown.out
