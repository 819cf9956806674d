"""Readiness inside `serve`: a commissioner is emailed once per change of a channel, not every run."""

from __future__ import annotations

import asyncio
import email
import email.policy
from pathlib import Path

from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import load_settings
from broadcaster.directory.practices import load_directory
from broadcaster.readiness.watch import ReadinessWatch
from tests.fakes.graph_api import GraphFake, TokenInfo
from tests.fakes.smtp_server import running_smtp_server

PAGE, TOKEN = "300000000001", "tok-G10000-page-secret"


async def test_commissioner_is_emailed_once_per_change(
    tmp_path: Path, aiohttp_server: object, engine: AsyncEngine
) -> None:
    """Broken: one email; still broken: none; recovered: none; broken again: one more; a restart remembers."""
    graph = GraphFake()
    graph.add_page(PAGE, TOKEN)
    server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    (tmp_path / "practices.yaml").write_text(
        "practices:\n"
        f"  - {{ods: G10000, name: Hill Surgery, facebook: {{page_id: '{PAGE}', token: fb_g10000}}}}\n",
        encoding="utf-8",
    )
    directory = await asyncio.to_thread(load_directory, tmp_path / "practices.yaml")  # file I/O
    async with running_smtp_server() as smtp:
        settings = await asyncio.to_thread(
            load_settings,
            directory=tmp_path / "practices.yaml",
            graph={"base_url": str(server.make_url("")).rstrip("/")},
            smtp={"host": smtp.host, "port": smtp.port, "security": "none"},
            secrets={"fb_g10000": TOKEN},
            readiness={"notify_email": "icb-comms@example.nhs.uk"},
        )

        def watch() -> ReadinessWatch:
            return ReadinessWatch(engine=engine, settings=settings, directory=directory)

        running = watch()
        assert await running.run_once() == []
        graph.token_info[TOKEN] = TokenInfo(is_valid=False, subcode=463)
        assert [c.key for c in await running.run_once()] == ["G10000 facebook"]
        assert await running.run_once() == []  # the next day, still broken: no second email
        assert await watch().run_once() == []  # a restarted server remembers, from the audit trail
        graph.token_info[TOKEN] = TokenInfo()
        assert await running.run_once() == []
        graph.token_info[TOKEN] = TokenInfo(scopes=())
        assert [c.key for c in await running.run_once()] == ["G10000 facebook"]
        mails = smtp.recorder.to("icb-comms@example.nhs.uk")
    assert len(mails) == 2
    assert "G10000" in str(mails[0]["Subject"])
    assert "G10000 Hill Surgery facebook: page token expired" in mails[0].get_content()
    assert "missing pages_manage_posts" in mails[1].get_content()
    assert TOKEN not in mails[0].as_string() + mails[1].as_string()


async def test_outbox_email_route_writes_the_alert_to_the_outbox(tmp_path: Path, engine: AsyncEngine) -> None:
    """With the directory's email provider the outbox, the alert is a file under outbox/readiness/."""
    (tmp_path / "practices.yaml").write_text(
        "defaults: {email_provider: outbox}\n"
        "practices:\n  - {ods: G10000, name: Hill Surgery, apprise: [bad_hook]}\n",
        encoding="utf-8",
    )
    directory = await asyncio.to_thread(load_directory, tmp_path / "practices.yaml")  # file I/O
    settings = await asyncio.to_thread(
        load_settings,
        directory=tmp_path / "practices.yaml",
        outbox_dir=tmp_path / "outbox",
        secrets={"bad_hook": "nosuchscheme://x"},
        readiness={"notify_email": "icb-comms@example.nhs.uk"},
    )
    broke = await ReadinessWatch(engine=engine, settings=settings, directory=directory).run_once()
    assert [c.key for c in broke] == ["G10000 apprise"]
    files = await asyncio.to_thread(lambda: list((tmp_path / "outbox" / "readiness").glob("*.eml")))
    assert len(files) == 1
    raw = await asyncio.to_thread(files[0].read_bytes)
    alert = email.message_from_bytes(raw, policy=email.policy.default)
    assert alert["To"] == "icb-comms@example.nhs.uk"
    assert "G10000 Hill Surgery apprise: the apprise URL in secret 'bad_hook' cannot be parsed" in str(
        alert.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    )
