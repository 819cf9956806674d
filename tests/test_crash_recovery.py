"""A sender killed mid-broadcast loses nothing and duplicates nothing: a restart finishes the job.

The first process is SIGKILLed while posts are in flight at a real (local) Graph API, so their
outcome is unknown to the outbox. `broadcaster serve`, started next, takes the dead worker's
claims back when their lease runs out, looks for those posts by their reference marker before
posting again, and sends everything that was still pending. (A post that lands although its
answer is lost is covered by the end-to-end test's act-then-timeout fault.)
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from aiohttp.test_utils import TestServer, unused_port

from tests.cli_runner import cli_env, start_cli
from tests.fakes.graph_api import GraphFake
from tests.polling import eventually

PAGES = 24


def delivered_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'").fetchone()[0])


async def test_killed_sender_is_resumed_by_serve_without_duplicate_posts(
    tmp_path: Path, aiohttp_server: object
) -> None:
    """Kill -9 mid-send, then `serve`: every page ends with exactly one post."""
    graph = GraphFake(answer_only_first_writes=8)
    lines = ["practices:"]
    for i in range(PAGES):
        graph.add_page(f"{200000000000 + i}", f"token-{i}-S3CRET")
        lines += [
            f"  - {{ods: F{10000 + i}, name: Practice {i},",
            f"     facebook: {{page_id: '{200000000000 + i}', token: fb_{i}}}}}",
        ]
    (tmp_path / "practices.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    env = cli_env(
        tmp_path,
        directory=str(tmp_path / "practices.yaml"),
        graph__base_url=str(server.make_url("")).rstrip("/"),
        graph__concurrency="4",
        dispatch__lease_seconds="2",
        port=str(unused_port()),
        **{f"secrets__fb_{i}": f"token-{i}-S3CRET" for i in range(PAGES)},
    )
    sender = await start_cli(
        env, tmp_path, "--log-level", "info", "send", "--all", "--title", "Phones down", "--message", "Down."
    )
    # Eight posts answered, and more made by the fake whose replies it holds back: the sender
    # cannot have finished, and some of its posts exist that it never heard about.
    await eventually(lambda: len(graph.writes) > 8)
    sender.send_signal(signal.SIGKILL)
    await sender.wait()
    assert delivered_count(tmp_path / "broadcaster.db") <= 8
    graph.replies_released.set()

    server_process = await start_cli(env, tmp_path, "--log-level", "info", "serve")
    try:
        await eventually(lambda: delivered_count(tmp_path / "broadcaster.db") == PAGES, within=30, every=0.1)
    finally:
        server_process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(server_process.communicate(), timeout=30)

    assert delivered_count(tmp_path / "broadcaster.db") == PAGES
    assert {page: len(graph.posts_on(page)) for page in graph.tokens} == dict.fromkeys(graph.tokens, 1)
    assert b'"event": "delivery_reconciled"' in err
    assert server_process.returncode == 0
