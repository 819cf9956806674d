"""An expired page token: not retried, the send exits 4, and `status` says which page needs attention."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestServer

from tests.cli_runner import cli_env, run_cli_async
from tests.fakes.faults import Fault
from tests.fakes.graph_api import GraphFake


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
    env = cli_env(
        tmp_path,
        directory=str(tmp_path / "practices.yaml"),
        graph__base_url=str(server.make_url("")).rstrip("/"),
        **{f"secrets__fb_{ods}": f"tok-{ods}" for ods in pages},
    )

    sent = await run_cli_async(
        env, tmp_path, "send", "--all", "--title", "Phones", "--message", "Phones down."
    )
    assert sent.code == 4, sent.err
    assert "1 delivered, 1 failed" in sent.err
    assert sum(1 for r in graph.requests if r.startswith("POST /v26.0/300000000002/feed")) == 1

    status = await run_cli_async(env, tmp_path, "status", "INC-1")
    out = status.out
    assert status.code == 4
    assert "Needs attention" in out
    attention = out.split("Needs attention", 1)[1]
    assert "G10001 facebook/graph 300000000002: " in attention
    assert "page token expired - get a new page token" in attention
    assert "tok-G10001" not in out
