"""While the store refuses writes, nothing is sent; when it takes them again, nothing is lost.

Another process holds SQLite's write lock for several seconds in the middle of a broadcast
that `broadcaster serve` is sending. Past the busy timeout the server's writes fail: it must
say so on `/healthz`, log it at error, stop sending, and once the lock is gone finish the
broadcast with every page posted to exactly once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, unused_port

from tests.cli_runner import cli_env, run_cli_async, start_cli
from tests.fakes.graph_api import GraphFake
from tests.polling import eventually, eventually_async

pytestmark = pytest.mark.e2e

PAGES = 200
PAGE_TOKEN = "page-token-for-the-lock-test-S3CRET"


def directory_yaml() -> str:
    lines = ["practices:"]
    for i in range(PAGES):
        lines += [
            f"  - {{ods: L{10000 + i}, name: Practice {i},",
            f"     facebook: {{page_id: '{400000000000 + i}', token: fb_all}}}}",
        ]
    return "\n".join(lines) + "\n"


async def health_status(base: str) -> int | None:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as reply:
            return reply.status
    except aiohttp.ClientError:
        return None


def delivered(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'").fetchone()[0])


async def test_nothing_is_sent_while_the_store_refuses_writes_and_all_lands_after(
    tmp_path: Path, aiohttp_server: object
) -> None:
    """A write lock held elsewhere mid-broadcast: /healthz 503, no sends, then all once."""
    graph = GraphFake(any_page_token=PAGE_TOKEN, latency_seconds=0.05)
    graph_server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    (tmp_path / "practices.yaml").write_text(directory_yaml(), encoding="utf-8")
    env = cli_env(
        tmp_path,
        directory=str(tmp_path / "practices.yaml"),
        log_format="json",
        port=str(unused_port()),
        graph__base_url=str(graph_server.make_url("")).rstrip("/"),
        graph__concurrency="4",
        database_busy_timeout_seconds="0.5",
        secrets__fb_all=PAGE_TOKEN,
    )
    base = f"http://127.0.0.1:{env['BROADCASTER_PORT']}"
    db = tmp_path / "broadcaster.db"
    queued = await run_cli_async(
        env, tmp_path, "send", "--all", "--title", "Down", "--message", "Down.", "--wait", "0"
    )
    assert queued.code == 3, queued.err  # queued for the server, not yet delivered

    server = await start_cli(env, tmp_path, "--log-level", "info", "serve")
    try:
        await eventually(lambda: len(graph.writes) >= 40, within=60)
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process takes the write lock and keeps it
        try:
            await eventually_async(lambda: _is(base, 503), within=10)
            # Sends already on the wire when writes began to fail may still arrive; give them
            # the busy timeout twice over, then nothing more may reach the provider.
            await asyncio.sleep(1.0)
            sent_while_refused = len(graph.arrivals)
            await asyncio.sleep(3.0)
            assert len(graph.arrivals) == sent_while_refused, "sent while outcomes could not be recorded"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await eventually(lambda: delivered(db) == PAGES, within=60, every=0.1)
        await eventually_async(lambda: _is(base, 200), within=10)
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(server.communicate(), timeout=60)

    assert server.returncode == 0
    assert sent_while_refused < PAGES
    posts = [p.page_id for p in graph.posts.values()]
    assert sorted(posts) == sorted({p.page_id for p in graph.posts.values()})
    assert len(posts) == PAGES
    events = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    failing = [e for e in events if e["event"] == "store_write_failing"]
    assert failing, "the refused writes were not logged"
    assert {e["level"] for e in failing} == {"error"}
    assert all("database is locked" in e["error"] for e in failing)
    assert any(e["event"] == "store_write_recovered" for e in events)


async def _is(base: str, status: int) -> bool:
    return await health_status(base) == status


async def test_a_stopped_cli_send_hands_back_its_claims_at_once(
    tmp_path: Path, aiohttp_server: object
) -> None:
    """SIGTERM to `broadcaster send`: exit 3, and no delivery is left claimed for the lease."""
    graph = GraphFake(any_page_token=PAGE_TOKEN, latency_seconds=0.3)
    graph_server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    (tmp_path / "practices.yaml").write_text(directory_yaml(), encoding="utf-8")
    env = cli_env(
        tmp_path,
        directory=str(tmp_path / "practices.yaml"),
        graph__base_url=str(graph_server.make_url("")).rstrip("/"),
        graph__concurrency="4",
        secrets__fb_all=PAGE_TOKEN,
    )
    sender = await start_cli(env, tmp_path, "send", "--all", "--title", "Down", "--message", "Down.")
    await eventually(lambda: len(graph.writes) >= 8, within=60)
    sender.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(sender.communicate(), timeout=30)

    assert sender.returncode == 3, err.decode()[-2000:]
    assert "`broadcaster serve` will send it" in err.decode()
    with sqlite3.connect(tmp_path / "broadcaster.db") as conn:
        by_state = dict(conn.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
    assert "sending" not in by_state
    assert by_state["delivered"] == len(graph.posts)  # every post made was recorded
    assert by_state["delivered"] + by_state["pending"] == PAGES
