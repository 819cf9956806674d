"""An expired page token: not retried, the send exits 4, and `status` says which page needs attention."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from aiohttp.test_utils import TestServer

from tests.fakes.faults import Fault
from tests.fakes.graph_api import GraphFake


async def run(env: dict[str, str], workdir: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "broadcaster",
        *args,
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_expired_page_token_fails_once_and_flags_the_page(
    tmp_path: Path, aiohttp_server: object
) -> None:
    """Graph code 190/463 is final: one request, exit 4, and the page listed as needing attention."""
    graph = GraphFake()
    pages = {"G10000": "300000000001", "G10001": "300000000002"}
    for ods, page in pages.items():
        graph.add_page(page, f"tok-{ods}")
    graph.plan.script("feed:300000000002", Fault.TOKEN_EXPIRED)
    server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    (tmp_path / "practices.yaml").write_text(
        "practices:\n"
        + "".join(
            f"  - {{ods: {ods}, name: Practice {ods}, facebook: {{page_id: '{page}', token: fb_{ods}}}}}\n"
            for ods, page in pages.items()
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env.update({f"BROADCASTER_SECRETS__FB_{ods}": f"tok-{ods}" for ods in pages})
    env.update(
        {
            "BROADCASTER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'broadcaster.db'}",
            "BROADCASTER_DIRECTORY": str(tmp_path / "practices.yaml"),
            "BROADCASTER_SECRETS_DIR": str(tmp_path / "none"),
            "BROADCASTER_GRAPH__BASE_URL": str(server.make_url("")).rstrip("/"),
        }
    )

    code, _out, err = await run(
        env, tmp_path, "send", "--all", "--title", "Phones", "--message", "Phones down."
    )
    assert code == 4, err
    assert "1 delivered, 1 failed" in err
    assert sum(1 for r in graph.requests if r.startswith("POST /v26.0/300000000002/feed")) == 1

    code, out, _err = await run(env, tmp_path, "status", "INC-1")
    assert code == 4
    assert "Needs attention" in out
    attention = out.split("Needs attention", 1)[1]
    assert "G10001 facebook/graph 300000000002: " in attention
    assert "page token expired - get a new page token" in attention
    assert "tok-G10001" not in out
