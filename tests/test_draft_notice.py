"""A person is told a draft waits: a monitor's draft emails BROADCASTER_MONITOR__DRAFT_NOTIFY_EMAIL
through a real local SMTP server, once per draft, while the practices get nothing until it is
confirmed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.config.settings import Settings, load_settings
from broadcaster.directory.practices import load_directory
from tests.accounts_helpers import bearer, make_token
from tests.api_server import AUTH, TOKEN, api_client
from tests.fakes.smtp_server import running_smtp_server
from tests.polling import eventually
from tests.test_monitor_hooks import hook, outcomes

DUTY = "icb-duty@example.nhs.uk"
MANAGER = "manager@hill.example"
FIRING = {
    "key": "phones-hill",
    "status": "firing",
    "ods": ["G10000"],
    "runbook": "phone-lines-down",
    "policy": "draft",
}


async def test_each_draft_emails_the_duty_inbox_once_and_the_practice_only_after_confirm(
    tmp_path: Path, engine: AsyncEngine
) -> None:
    """Drafted: one notice with the text and the commands; repeats: no more; confirmed: the
    practice's email goes out; the drafted resolve: a second notice."""
    (tmp_path / "practices.yaml").write_text(
        "practices:\n"
        f"  - {{ods: G10000, name: Hill Surgery, placeholders: {{alt_phone: '0113 496 0000'}},"
        f" email: {{recipients: ['{MANAGER}']}}}}\n",
        encoding="utf-8",
    )
    directory = await asyncio.to_thread(load_directory, tmp_path / "practices.yaml")  # file I/O
    async with running_smtp_server() as smtp:
        settings: Settings = await asyncio.to_thread(
            load_settings,
            directory=tmp_path / "practices.yaml",
            outbox_dir=tmp_path / "outbox",
            api_token=SecretStr(TOKEN),
            smtp={"host": smtp.host, "port": smtp.port, "security": "none"},
            monitor={"draft_notify_email": DUTY},
        )
        async with api_client(engine, directory, tmp_path, settings=settings) as client:
            monitor = bearer(await make_token(engine, "prometheus", Role.MONITOR))
            assert outcomes((await hook(client, "generic", FIRING, monitor))[1]) == [("drafted", "INC-1")]
            await eventually(lambda: len(smtp.recorder.to(DUTY)) == 1)
            assert outcomes((await hook(client, "generic", FIRING, monitor))[1]) == [("unchanged", "INC-1")]
            await asyncio.sleep(1.0)  # time for a second notice, or the practice's email, to arrive
            assert len(smtp.recorder.to(DUTY)) == 1
            assert smtp.recorder.to(MANAGER) == []

            async with client.post("/api/incidents/INC-1/confirm", json={"seq": 0}, headers=AUTH) as reply:
                assert reply.status == 201
            await eventually(lambda: len(smtp.recorder.to(MANAGER)) == 1)
            resolved = {"key": "phones-hill", "status": "resolved", "policy": "draft"}
            assert outcomes((await hook(client, "generic", resolved, monitor))[1]) == [("drafted", "INC-1")]
            await eventually(lambda: len(smtp.recorder.to(DUTY)) == 2)
            opening, resolve = smtp.recorder.to(DUTY)
            manager_mails = smtp.recorder.to(MANAGER)
    assert len(manager_mails) == 1  # the resolve waits for a person
    assert str(opening["Subject"]).startswith("Draft waiting for you: INC-1 ")
    text = opening.get_content()
    assert "prometheus raised a draft of its first message on INC-1" in text
    assert "for G10000" in text
    assert "Our phone lines are down" in text  # what it says, to read before confirming
    assert "broadcaster confirm INC-1 --update 0" in text
    assert "broadcaster confirm INC-1 --update 1" in resolve.get_content()
    assert TOKEN not in opening.as_string() + resolve.as_string()
