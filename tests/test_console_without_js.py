"""The console with JavaScript switched off, in headless Chromium at 360 x 740 against
`broadcaster serve` and the local fakes: sign in, send from a runbook, and follow the grid the
server renders, as a locked-down NHS browser would."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.console_server import (
    ARGS,
    CHROMIUM,
    NEEDS_CHROMIUM,
    PHONE,
    Console,
    add_user,
    running_console,
    sign_in,
)

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
async def console(tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[Console]:
    async with running_console(tmp_path, aiohttp_server) as running:
        yield running


def refresh_until(page: Any, text: re.Pattern[str], *, within: float = 20.0) -> None:
    """Follow the page's Refresh link until `text` shows: without a script the grid is only as
    new as the page (polled: the deliveries happen in the server and the fakes)."""
    deadline = time.monotonic() + within
    while not page.get_by_text(text).count():
        assert time.monotonic() < deadline, page.locator("#summary").text_content()
        page.wait_for_timeout(100)
        page.get_by_role("link", name="Refresh").click()


def send_without_javascript(console: Console, totp: pyotp.TOTP) -> dict[str, object]:
    """Runs in a worker thread (Playwright's sync API); what the incident page showed in the end."""
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415

    url = console.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport=PHONE, java_script_enabled=False)
        page = context.new_page()
        sign_in(page, url, "comms", totp)

        page.get_by_role("link", name="Send", exact=True).click()
        page.get_by_role("link", name=re.compile("Phone lines down")).click()
        page.get_by_label(re.compile("next update", re.I)).fill("2pm today")
        expect(page.get_by_label("All practices")).to_be_checked()
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_text("Confidentiality check: nothing identifying found.")).to_be_visible()
        expect(page.get_by_text(re.compile(r"3 recipients, 3 segments, estimated cost"))).to_be_visible()
        page.get_by_role("button", name="Confirm and send").click()

        page.wait_for_url(re.compile(r"/incidents/INC-1$"))
        refresh_until(page, re.compile(r"9 of 9 settled"))
        shown = {
            "riverside sms": page.get_by_label("Riverside Surgery, SMS: delivered", exact=True).count(),
            "hillside facebook": page.get_by_label("Hillside Practice, Facebook: failed", exact=True).count(),
            "live": page.locator("#grid").get_attribute("data-live"),
            "summary": page.locator("#summary").text_content(),
        }
        browser.close()
    return shown


async def test_a_commissioner_signs_in_and_sends_from_a_runbook_without_javascript(console: Console) -> None:
    """Password and TOTP, a runbook, preview, confirm: the incident page shows the grid as rendered."""
    totp = await add_user(console, "comms", "--role", "commissioner")

    shown = await asyncio.to_thread(send_without_javascript, console, totp)

    assert shown["riverside sms"] == 1
    assert shown["hillside facebook"] == 1
    assert shown["live"] is None  # the grid script never ran: what is shown came from the server
    assert "9 of 9 settled" in str(shown["summary"])
