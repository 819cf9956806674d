"""`broadcaster monitor` as a user runs it: checks a local site, opens an incident that the
dispatcher delivers, resolves it when the site is back, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from tests.cli_runner import cli_env, run_cli, run_cli_async, start_cli
from tests.health_targets import Site
from tests.polling import eventually

FAST = {
    "interval": 0.1,
    "timeout": 0.1,
    "fail_after": 2,
    "recover_after": 2,
    "group_seconds": 0,
    "hold_down": 0,
}


def directory_with_check(tmp_path: Path, target: str, **overrides: Any) -> Path:
    check = {
        "name": "website",
        "kind": "http",
        "target": target,
        "runbook": "website-down",
        "fields": {"services": "our website"},
        **FAST,
        **overrides,
    }
    doc = {
        "defaults": {"email_provider": "outbox"},
        "practices": [
            {
                "ods": "X99001",
                "name": "Riverside Surgery",
                "email": {"recipients": ["m@riverside.example"]},
                "checks": [check],
            }
        ],
    }
    path = tmp_path / "practices.yaml"
    path.write_text(json.dumps(doc))
    return path


def outbox_files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "outbox").rglob("*") if p.is_file())


async def test_monitor_opens_delivers_and_resolves(tmp_path: Path, aiohttp_server: Any) -> None:
    """Site down: INC-1 reaches the outbox once; site back: its resolve does; SIGTERM: exit 0."""
    site = Site()
    server: TestServer = await aiohttp_server(site.app())
    path = await asyncio.to_thread(directory_with_check, tmp_path, str(server.make_url("/x99001")))
    env = cli_env(tmp_path, directory=str(path))
    process = await start_cli(env, tmp_path, "monitor")
    try:
        await eventually(lambda: len(outbox_files(tmp_path)) == 1, within=30)
        site.up = {"x99001"}
        await eventually(lambda: len(outbox_files(tmp_path)) == 2, within=30)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
    assert process.returncode == 0
    assert len(outbox_files(tmp_path)) == 2  # probed every 0.1 s throughout: no repeats
    listed = await run_cli_async(env, tmp_path, "list")
    assert "INC-1" in listed.out
    assert "resolved" in listed.out


def test_monitor_without_checks_says_how_to_add_them(tmp_path: Path) -> None:
    """The shipped example declares none: exit 2, pointing at the directory's checks."""
    result = run_cli(tmp_path, "monitor")
    assert result.code == 2
    assert "declares no health checks" in result.err
    assert "Traceback" not in result.err


def test_a_bad_check_target_is_refused_by_check(tmp_path: Path) -> None:
    """`broadcaster check` names the practice and field of a check that cannot run."""
    path = directory_with_check(tmp_path, "booking.example")
    result = run_cli(tmp_path, "check", env={"BROADCASTER_DIRECTORY": str(path)})
    assert result.code == 2
    assert "practice X99001" in result.err
    assert "checks[0]" in result.err
    assert "an http check's target is a URL" in result.err


async def test_serve_runs_the_checks_too(tmp_path: Path, aiohttp_server: Any, unused_tcp_port: int) -> None:
    """The same checks inside `broadcaster serve`: the down site's incident is delivered."""
    site = Site()
    server: TestServer = await aiohttp_server(site.app())
    path = await asyncio.to_thread(directory_with_check, tmp_path, str(server.make_url("/x99001")))
    env = cli_env(tmp_path, directory=str(path), port=str(unused_tcp_port))
    process = await start_cli(env, tmp_path, "serve")
    try:
        await eventually(lambda: len(outbox_files(tmp_path)) == 1, within=30)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
    assert process.returncode == 0


def test_monitor_refuses_to_start_a_check_that_could_not_send(tmp_path: Path) -> None:
    """A runbook placeholder the practice lacks: exit 2 naming the check and the practice,
    before any probe, rather than at 7 am when the check fails."""
    path = tmp_path / "practices.yaml"
    check = {"name": "telephony", "kind": "tcp", "target": "127.0.0.1:9", "runbook": "phone-lines-down"}
    doc = {
        "defaults": {"email_provider": "outbox"},
        "practices": [
            {
                "ods": "X99001",
                "name": "Riverside Surgery",
                "email": {"recipients": ["m@r.example"]},
                "checks": [check],
            }
        ],
    }
    path.write_text(json.dumps(doc))
    result = run_cli(tmp_path, "monitor", env={"BROADCASTER_DIRECTORY": str(path)})
    assert result.code == 2
    assert "health check 'telephony' could not send" in result.err
    assert "X99001 (Riverside Surgery): alt_phone" in result.err
    assert "Traceback" not in result.err
