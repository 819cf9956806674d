"""A sender killed mid-broadcast loses nothing and duplicates nothing: a restart finishes the job.

The first process is SIGKILLed while posts are in flight at a real (local) Graph API. Those
posts land after it died, so their outcome is unknown. `broadcaster serve`, started next,
takes the dead worker's claims back when their lease runs out, finds those posts by their
reference marker instead of posting again, and sends everything that was still pending.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
from pathlib import Path

from aiohttp.test_utils import TestServer

from tests.cli_runner import cli_env, start_cli
from tests.fakes.graph_api import GraphFake
from tests.polling import eventually

PAGES = 24


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def delivered_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM deliveries WHERE state = 'delivered'").fetchone()[0])


async def test_killed_sender_is_resumed_by_serve_without_duplicate_posts(
    tmp_path: Path, aiohttp_server: object
) -> None:
    """Kill -9 mid-send, then `serve`: every page ends with exactly one post."""
    graph = GraphFake(latency_seconds=0.4)
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
        port=str(free_port()),
        **{f"secrets__fb_{i}": f"token-{i}-S3CRET" for i in range(PAGES)},
    )
    sender = await start_cli(
        env, tmp_path, "--log-level", "info", "send", "--all", "--title", "Phones down", "--message", "Down."
    )
    # Some posts made, and more received by the fake but not yet answered.
    await eventually(lambda: len(graph.writes) >= 8 and len(graph.requests) > len(graph.writes))
    in_flight_at_kill = len(graph.requests) - len(graph.writes)
    sender.send_signal(signal.SIGKILL)
    await sender.wait()
    assert delivered_count(tmp_path / "broadcaster.db") < PAGES

    server_process = await start_cli(env, tmp_path, "--log-level", "info", "serve")
    await eventually(lambda: delivered_count(tmp_path / "broadcaster.db") == PAGES, within=30, every=0.1)
    server_process.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(server_process.communicate(), timeout=30)

    assert delivered_count(tmp_path / "broadcaster.db") == PAGES
    assert {page: len(graph.posts_on(page)) for page in graph.tokens} == dict.fromkeys(graph.tokens, 1)
    assert in_flight_at_kill > 0
    assert b'"event": "delivery_reconciled"' in err
    assert server_process.returncode == 0
