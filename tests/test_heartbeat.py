"""The heartbeat to a dead man's switch (a local stand-in for healthchecks.io): pinged while the
dispatcher could send, withheld while it could not, and again once it can."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.delivery.runtime import running_dispatcher
from broadcaster.monitoring.heartbeat import Heartbeat
from tests.cli_runner import cli_env, start_cli
from tests.polling import eventually


class Switch:
    """Counts pings, as healthchecks.io's /ping/<uuid> does."""

    def __init__(self) -> None:
        self.pings = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ping/{uuid}", self._ping)
        return app

    async def _ping(self, _request: web.Request) -> web.Response:
        self.pings += 1
        return web.Response(text="OK")


@pytest.fixture
async def switch(aiohttp_server: Any) -> tuple[Switch, str]:
    found = Switch()
    server: TestServer = await aiohttp_server(found.app())
    return found, str(server.make_url("/ping/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"))


async def test_a_healthy_dispatcher_pings_the_switch_every_interval(
    engine: AsyncEngine, tmp_path: Path, switch: tuple[Switch, str]
) -> None:
    """Three pings, one interval apart."""
    counter, url = switch
    async with (
        running_dispatcher(engine, Settings(outbox_dir=tmp_path), {"email/outbox"}) as dispatcher,
        aiohttp.ClientSession() as session,
    ):
        beats = Heartbeat(url=url, every_seconds=0.05, engine=engine, dispatcher=dispatcher, session=session)
        running = asyncio.create_task(beats.run())
        try:
            await eventually(lambda: counter.pings >= 3)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)


async def test_no_ping_while_recording_outcomes_fails_and_pings_again_after(
    engine: AsyncEngine, tmp_path: Path, switch: tuple[Switch, str]
) -> None:
    """While the store refuses the dispatcher's writes (what /readyz answers 503 for) the switch
    hears nothing, so it raises the alarm; when the writes succeed again, it hears the beat."""
    counter, url = switch
    async with (
        running_dispatcher(engine, Settings(outbox_dir=tmp_path), {"email/outbox"}) as dispatcher,
        aiohttp.ClientSession() as session,
    ):
        beats = Heartbeat(url=url, every_seconds=60, engine=engine, dispatcher=dispatcher, session=session)
        # The health record the result writer keeps, as it marks a refused write (delivery.store_health).
        dispatcher.health.failed("recording outcomes", OSError("database is locked"))
        assert await beats.beat() is False
        assert counter.pings == 0
        dispatcher.health.succeeded("recording outcomes")
        assert await beats.beat() is True
        assert counter.pings == 1


async def test_no_ping_once_the_dispatcher_has_stopped(
    engine: AsyncEngine, tmp_path: Path, switch: tuple[Switch, str]
) -> None:
    """A dispatcher that is not running cannot send: nothing is pinged."""
    counter, url = switch
    async with running_dispatcher(engine, Settings(outbox_dir=tmp_path), {"email/outbox"}) as dispatcher:
        pass
    async with aiohttp.ClientSession() as session:
        beats = Heartbeat(url=url, every_seconds=60, engine=engine, dispatcher=dispatcher, session=session)
        assert await beats.beat() is False
    assert counter.pings == 0


async def test_a_switch_that_is_down_does_not_stop_the_beat(
    engine: AsyncEngine, tmp_path: Path, unused_tcp_port: int
) -> None:
    """Nothing listens at the URL: the beat says so and returns, to try again next time."""
    async with (
        running_dispatcher(engine, Settings(outbox_dir=tmp_path), {"email/outbox"}) as dispatcher,
        aiohttp.ClientSession() as session,
    ):
        url = f"http://127.0.0.1:{unused_tcp_port}/ping/x"
        beats = Heartbeat(url=url, every_seconds=1, engine=engine, dispatcher=dispatcher, session=session)
        assert await beats.beat() is False


async def test_serve_pings_the_heartbeat_url(
    tmp_path: Path, switch: tuple[Switch, str], unused_tcp_port: int
) -> None:
    """BROADCASTER_HEARTBEAT_URL and _SECONDS, through the real `broadcaster serve`."""
    counter, url = switch
    env = cli_env(tmp_path, heartbeat_url=url, heartbeat_seconds="0.1", port=str(unused_tcp_port))
    process = await start_cli(env, tmp_path, "serve")
    try:
        await eventually(lambda: counter.pings >= 2, within=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0
    assert "5bf66975" not in err.decode()  # the ping URL is a secret: never logged
