"""The console in real headless Chromium at 360 x 740, against `broadcaster serve` and the local
Graph API, Notify and SMTP fakes: a user made with the CLI signs in with TOTP, sends from a
runbook, watches the grid complete, retries a failed cell, posts an update and resolves; a
practice user is refused another practice's incident, in the page and in the API."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.console_server import (
    ARGS,
    BROKEN_PAGE,
    CHROMIUM,
    NEEDS_CHROMIUM,
    PHONE,
    Console,
    add_user,
    cli,
    running_console,
    sign_in,
)

pytestmark = NEEDS_CHROMIUM
# The README's screenshots are redrawn only when asked (BROADCASTER_DRAW_SCREENSHOTS=1), so a
# test run leaves the checkout as it found it; otherwise they are taken into a scratch folder.
DOCS = (
    Path(__file__).resolve().parent.parent / "docs"
    if os.environ.get("BROADCASTER_DRAW_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="console-screenshots-"))
)


@pytest.fixture
async def console(tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[Console]:
    async with running_console(tmp_path, aiohttp_server) as running:
        yield running


def commissioner_flow(console: Console, totp: pyotp.TOTP, fix_token: object) -> dict[str, int]:
    """Runs in a worker thread (Playwright's sync API); returns bytes per first-page response."""
    from playwright.sync_api import Response, expect, sync_playwright  # noqa: PLC0415

    url = console.url
    sizes: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport=PHONE)
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
        page = browser.new_page(viewport=PHONE)
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
