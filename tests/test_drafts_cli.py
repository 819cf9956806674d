"""A health check with `policy: draft` as a user runs it: `broadcaster monitor` finds the site down
and writes a DRAFT that sends nothing; `broadcaster confirm` sends it; the recovery's resolve waits
for a person too; a recovery before anyone confirmed discards the draft, never sent."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.cli_runner import cli_env, run_cli_async, start_cli
from tests.health_targets import Site
from tests.polling import eventually, eventually_async
from tests.test_cli_monitor import directory_with_check, outbox_files


class Monitoring:
    """`broadcaster monitor` running over one practice whose website check has the draft policy."""

    def __init__(self, tmp_path: Path, site: Site, env: dict[str, str]) -> None:
        self.tmp_path, self.site, self.env = tmp_path, site, env

    async def cli(self, *args: str) -> tuple[int, str]:
        done = await run_cli_async(self.env, self.tmp_path, *args)
        return done.code, done.out + done.err

    async def status_json(self) -> dict[str, Any]:
        code, out = await self.cli("status", "INC-1", "--json")
        assert code == 3, out  # not finished: a held draft is waiting
        found: dict[str, Any] = json.loads(out[out.index("{") :])
        return found

    async def until_listed(self, text: str) -> str:
        """Poll `broadcaster list` until INC-1's line says `text`."""
        seen = ""

        async def listed() -> bool:
            nonlocal seen
            seen = (await self.cli("list"))[1]
            return any("INC-1" in line and text in line for line in seen.splitlines())

        await eventually_async(listed, within=30, every=0.2)
        return seen

    def sent(self) -> int:
        return len(outbox_files(self.tmp_path))

    async def quiet(self) -> None:
        """Long enough for the monitor's dispatcher to send anything due."""
        await asyncio.sleep(1.5)


@pytest.fixture
async def monitoring(tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[Monitoring]:
    site = Site()
    server: TestServer = await aiohttp_server(site.app())
    path = await asyncio.to_thread(
        directory_with_check, tmp_path, str(server.make_url("/x99001")), policy="draft"
    )
    env = cli_env(tmp_path, directory=str(path))
    process = await start_cli(env, tmp_path, "monitor")
    try:
        yield Monitoring(tmp_path, site, env)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
    assert process.returncode == 0


async def test_a_draft_waits_for_confirm_and_so_does_its_resolve(monitoring: Monitoring) -> None:
    """Down: one DRAFT, nothing sent. Confirmed: sent once. Up: a DRAFT UPDATE; confirmed: resolved."""
    await monitoring.until_listed("DRAFT")
    status = await monitoring.status_json()
    assert (status["draft"], status["waiting_draft"]) == ("opening", 0)
    assert [d["state"] for d in status["deliveries"]] == ["held"]
    await monitoring.quiet()
    assert monitoring.sent() == 0

    code, out = await monitoring.cli("confirm", "INC-1", "--wait", "0")
    assert code == 3, out  # queued for the running monitor's dispatcher, as `send --wait 0`
    assert "Confirmed the draft of INC-1 (update 0): 1 messages to send." in out
    await eventually(lambda: monitoring.sent() == 1, within=30)

    monitoring.site.up = {"x99001"}
    await monitoring.until_listed("DRAFT UPDATE")
    await monitoring.quiet()
    assert monitoring.sent() == 1  # the resolve is held
    code, out = await monitoring.cli("confirm", "INC-1", "--update", "1", "--wait", "0")
    assert code == 3, out
    await eventually(lambda: monitoring.sent() == 2, within=30)
    await monitoring.until_listed("resolved")
    await monitoring.quiet()
    assert monitoring.sent() == 2  # probed every 0.1 s throughout: no repeats


async def test_recovery_before_a_confirm_discards_the_draft(monitoring: Monitoring) -> None:
    """Back before anyone confirmed: DISCARDED (never sent), nothing to confirm, nothing to reopen."""
    await monitoring.until_listed("DRAFT")
    monitoring.site.up = {"x99001"}
    await monitoring.until_listed("DISCARDED")
    code, out = await monitoring.cli("confirm", "INC-1")
    assert code == 2
    assert "INC-1 has no draft waiting" in out
    code, out = await monitoring.cli("reopen", "INC-1", "It is down again.", "--wait", "0")
    assert code == 2
    assert "never sent" in out
    await monitoring.quiet()
    assert monitoring.sent() == 0


async def test_a_person_may_not_update_past_a_waiting_draft(monitoring: Monitoring) -> None:
    """`broadcaster update` while a draft waits: exit 2 naming confirm and discard; discard ends it."""
    await monitoring.until_listed("DRAFT")
    code, out = await monitoring.cli("update", "INC-1", "Found it.", "--status", "identified", "--wait", "0")
    assert code == 2
    assert "broadcaster confirm INC-1" in out
    code, out = await monitoring.cli("discard", "INC-1")
    assert code == 0, out
    assert "Discarded the draft of INC-1 (its first message: the incident is closed)" in out
    await monitoring.until_listed("DISCARDED")
    assert monitoring.sent() == 0
