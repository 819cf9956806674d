"""The console in real headless Chromium at 360 x 740, against `broadcaster serve` and the local
Graph API, Notify and SMTP fakes: a user made with the CLI signs in with TOTP, sends from a
runbook, watches the grid complete, retries a failed cell, posts an update and resolves; a
practice user is refused another practice's incident, in the page and in the API."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pyotp
import pytest
from aiohttp.test_utils import TestServer

from tests.cli_runner import cli_env
from tests.fakes.graph_api import GraphFake
from tests.fakes.notify_api import NotifyFake
from tests.fakes.smtp_server import RunningSmtpServer, running_smtp_server
from tests.polling import eventually_async

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
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
DOCS = Path(__file__).resolve().parent.parent / "docs"
PASSWORD = "correct horse battery staple 42"
PRACTICES = [
    ("X99001", "Riverside Surgery", "100000000990001"),
    ("X99002", "Oak Lane Medical Centre", "100000000990002"),
    ("X99003", "Hillside Practice", "100000000990003"),
]
BROKEN_PAGE = "100000000990003"  # its token is refused until the test "fixes" it


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


@pytest.fixture
async def console(tmp_path: Path, aiohttp_server: object) -> AsyncIterator[Console]:
    graph = GraphFake()
    for ods, _, page in PRACTICES:
        graph.add_page(page, f"token-{ods}" if page != BROKEN_PAGE else "a-newer-token")
    notify = NotifyFake()
    graph_server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    notify_server: TestServer = await aiohttp_server(notify.app())  # type: ignore[operator]
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


def sign_in(page: object, url: str, name: str, totp: pyotp.TOTP) -> None:
    from playwright.sync_api import Page  # noqa: PLC0415

    assert isinstance(page, Page)
    page.goto(f"{url}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("6-digit code")).fill(totp.now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")


def commissioner_flow(console: Console, totp: pyotp.TOTP, fix_token: object) -> dict[str, int]:
    """Runs in a worker thread (Playwright's sync API); returns bytes per first-page response."""
    from playwright.sync_api import Response, expect, sync_playwright  # noqa: PLC0415

    url = console.url
    sizes: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        responses: list[Response] = []

        def seen(response: Response) -> None:
            responses.append(response)

        page.on("response", seen)
        page.goto(f"{url}/login", wait_until="load")
        page.remove_listener("response", seen)
        # What crossed the wire for the first page: its headers and bodies, the assets included.
        for r in responses:
            sizes[r.url] = len(r.body()) + sum(len(k) + len(v) + 4 for k, v in r.headers.items())
        page.screenshot(path=str(DOCS / "console-sign-in.png"))
        first_page = dict(sizes)
        sign_in(page, url, "comms", totp)

        page.get_by_role("link", name="Send", exact=True).click()
        page.get_by_role("link", name=re.compile("Phone lines down")).click()
        page.get_by_label(re.compile("next update", re.I)).fill("2pm today")
        page.get_by_label("All practices").check()
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_text("Confidentiality check: nothing identifying found.")).to_be_visible()
        expect(page.get_by_text(re.compile(r"3 recipients, 3 segments, estimated cost"))).to_be_visible()
        page.screenshot(path=str(DOCS / "console-preview.png"), full_page=False)
        page.get_by_role("button", name="Confirm and send").click()

        page.wait_for_url(re.compile(r"/incidents/INC-1$"))
        broken = page.get_by_label("Hillside Practice, Facebook: failed", exact=True)
        expect(broken).to_be_visible(timeout=20_000)
        expect(page.get_by_label("Riverside Surgery, SMS: delivered", exact=True)).to_be_visible(
            timeout=20_000
        )
        expect(page.get_by_text(re.compile(r"9 of 9 settled"))).to_be_visible(timeout=20_000)
        page.screenshot(path=str(DOCS / "console-grid.png"), full_page=False)

        broken.locator("summary").click()  # the reason on tap
        expect(broken.locator(".reason")).to_contain_text(re.compile("token|OAuth|190", re.I))
        fix_token()  # someone renews the page's token on Facebook's side
        broken.get_by_role("button", name=re.compile("Retry")).click()
        expect(page.get_by_label("Hillside Practice, Facebook: delivered", exact=True)).to_be_visible(
            timeout=20_000
        )

        page.get_by_label("Status").select_option("identified")
        page.get_by_label("Message").fill("The phone company has found the fault.")
        page.get_by_role("button", name="Send update").click()
        expect(page.get_by_text(re.compile(r"1\. identified"))).to_be_attached()
        page.get_by_role("button", name=re.compile("Resolve")).click()
        expect(page.locator("main p .state").first).to_have_text("resolved")
        expect(page.get_by_role("heading", name="Reopen")).to_be_visible()

        page.goto(f"{url}/")
        page.screenshot(path=str(DOCS / "console-incidents.png"), full_page=False)
        browser.close()
    return first_page


def practice_flow(console: Console, totp: pyotp.TOTP) -> tuple[int, int]:
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415

    url = console.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        sign_in(page, url, "riverside", totp)
        expect(page.get_by_text("INC-2")).to_have_count(0)  # not in its list
        shown = page.goto(f"{url}/incidents/INC-2")
        assert shown is not None
        expect(page.get_by_role("alert")).to_contain_text("sees only incidents for those practices")
        api = page.request.get(f"{url}/api/incidents/INC-2/deliveries")
        browser.close()
        return shown.status, api.status


async def test_a_commissioner_sends_watches_retries_updates_and_resolves_from_a_phone(
    console: Console,
) -> None:
    """Sign in with TOTP, send a runbook to all, the grid completes, a refused page is retried once fixed."""
    totp = await add_user(console, "comms", "--role", "commissioner")
    first_page = await asyncio.to_thread(
        commissioner_flow, console, totp, lambda: console.graph.add_page(BROKEN_PAGE, "token-X99003")
    )
    assert sum(first_page.values()) < 100_000, first_page
    assert len(console.graph.posts_on(BROKEN_PAGE)) == 1


async def test_a_practice_user_is_refused_another_practices_incident_in_page_and_api(
    console: Console,
) -> None:
    """riverside (X99001) may not open INC-2, which reaches only X99002: 403 in the page and the API."""
    totp = await add_user(console, "riverside", "--role", "practice", "--ods", "X99001")
    await cli(
        console,
        "send",
        "--title",
        "Oak Lane phones",
        "--message",
        "Call {alt_phone}.",
        "--ods",
        "X99001",
        "--wait",
        "0",
        exits=(0, 3),
    )
    await cli(
        console,
        "send",
        "--title",
        "Oak Lane phones",
        "--message",
        "Call {alt_phone}.",
        "--ods",
        "X99002",
        "--wait",
        "0",
        exits=(0, 3),
    )
    page_status, api_status = await asyncio.to_thread(practice_flow, console, totp)
    assert (page_status, api_status) == (403, 403)
