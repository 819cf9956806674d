"""`broadcaster serve` as a subprocess against the local Graph API, Notify and SMTP fakes, a user
made with the real CLI, and signing in through the real pages in Chromium: what the console's
browser tests share."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pyotp
import pytest
from aiohttp.test_utils import TestServer

from tests.cli_runner import cli_env
from tests.fakes.graph_api import GraphFake
from tests.fakes.notify_api import NotifyFake
from tests.fakes.smtp_server import RunningSmtpServer, running_smtp_server
from tests.polling import eventually_async

if TYPE_CHECKING:  # Playwright is imported inside the worker threads that drive it
    from playwright.sync_api import ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
NEEDS_CHROMIUM = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium); CI installs it",
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 360, "height": 740}
PASSWORD = "correct horse battery staple 42"
PRACTICES = [
    ("X99001", "Riverside Surgery", "100000000990001"),
    ("X99002", "Oak Lane Medical Centre", "100000000990002"),
    ("X99003", "Hillside Practice", "100000000990003"),
]
BROKEN_PAGE = "100000000990003"  # its token is refused until a test "fixes" it


def directory_yaml() -> str:
    lines = ["practices:"]
    for i, (ods, name, page) in enumerate(PRACTICES):
        lines += [
            f"  - ods: {ods}",
            f"    name: {name}",
            "    groups: [north-pcn]",
            "    placeholders: {alt_phone: '0113 496 0000', website: 'example.org'}",
            f"    facebook: {{page_id: '{page}', token: fb_{ods.lower()}}}",
            f"    sms: {{recipients: ['+4477009000{i:02d}']}}",
            f"    email: {{recipients: [manager@p{i}.example]}}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Console:
    url: str
    env: dict[str, str]
    workdir: Path
    graph: GraphFake
    smtp: RunningSmtpServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def cli(console: Console, *args: str, stdin: str = "", exits: tuple[int, ...] = (0,)) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "broadcaster",
        *args,
        cwd=console.workdir,
        env=console.env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    assert process.returncode in exits, err.decode()
    return out.decode()


async def add_user(console: Console, name: str, *options: str) -> pyotp.TOTP:
    out = await cli(console, "users", "add", name, *options, "--password-stdin", stdin=PASSWORD + "\n")
    uri = re.search(r"otpauth://\S+", out)
    assert uri is not None, out
    return pyotp.parse_uri(uri.group(0))  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def running_console(
    tmp_path: Path, aiohttp_server: Callable[[Any], Awaitable[TestServer]]
) -> AsyncIterator[Console]:
    """`broadcaster serve` on a free port, its providers the fakes; Hillside's page token refused."""
    graph = GraphFake()
    for ods, _, page in PRACTICES:
        graph.add_page(page, f"token-{ods}" if page != BROKEN_PAGE else "a-newer-token")
    notify = NotifyFake()
    graph_server = await aiohttp_server(graph.app())
    notify_server = await aiohttp_server(notify.app())
    (tmp_path / "practices.yaml").write_text(directory_yaml(), encoding="utf-8")
    port = free_port()
    async with running_smtp_server() as smtp:
        env = cli_env(
            tmp_path,
            directory=str(tmp_path / "practices.yaml"),
            port=str(port),
            web__secret_key="console-test-key-S3CRET-0123456789abcdef",
            graph__base_url=str(graph_server.make_url("")).rstrip("/"),
            notify__base_url=str(notify_server.make_url("")).rstrip("/"),
            notify__api_key=notify.api_key,
            notify__sms_template_id=notify.sms_template_id,
            notify__email_template_id=notify.email_template_id,
            smtp__host=smtp.host,
            smtp__port=str(smtp.port),
            smtp__security="none",
            retry__initial_seconds="0.1",
            **{f"secrets__fb_{ods.lower()}": f"token-{ods}" for ods, _, _ in PRACTICES},
        )
        serve = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "broadcaster",
            "serve",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as http:

                async def up() -> bool:
                    try:
                        async with http.get(f"{url}/healthz") as reply:
                            return reply.status == 200
                    except aiohttp.ClientError:
                        return False

                await eventually_async(up, within=30)
            yield Console(url, env, tmp_path, graph, smtp)
        finally:
            serve.terminate()
            await serve.wait()


def sign_in(page: Any, url: str, name: str, totp: pyotp.TOTP) -> None:
    """Password, then the authenticator's code, through the sign-in pages; lands on the incident list."""
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("6-digit code")).fill(totp.now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
