"""Accessibility basics of the console, checked in headless Chromium at 360 x 740 against
`broadcaster serve` and the local fakes: every control labelled, every grid cell named for a
screen reader, one language, one <main> and one <h1> a page, the incident page 360 px wide, and
the stylesheet's text colours at least 4.5:1 against their backgrounds (WCAG 2.2, 1.4.3)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
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
PRACTICE = "Riverside Surgery|Oak Lane Medical Centre|Hillside Practice"
CELL_NAME = re.compile(rf"^({PRACTICE}), (Facebook|SMS|Email): (delivered|failed)$")
# What every page must have, and each form control without a name, as the DOM says.
PAGE_FACTS = """() => {
  const unnamed = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button"].includes(el.type)) { continue; }
    const label = [...el.labels].some((l) => l.textContent.trim());
    if (!label && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")) {
      unnamed.push(el.outerHTML.slice(0, 120));
    }
  }
  for (const b of document.querySelectorAll("button")) {
    if (!b.textContent.trim() && !b.getAttribute("aria-label")) { unnamed.push(b.outerHTML.slice(0, 120)); }
  }
  return {
    unnamed,
    lang: document.documentElement.lang,
    mains: document.querySelectorAll("main").length,
    h1s: document.querySelectorAll("h1").length,
  };
}"""
WIDTHS = """() => ({
  page: document.scrollingElement.scrollWidth,
  grid: document.getElementById("grid").getBoundingClientRect().right,
})"""


@pytest.fixture
async def console(tmp_path: Path, aiohttp_server: Any) -> AsyncIterator[Console]:
    async with running_console(tmp_path, aiohttp_server) as running:
        yield running


def walk_the_console(console: Console, totp: pyotp.TOTP) -> dict[str, Any]:
    """Runs in a worker thread (Playwright's sync API): each page's facts, the grid's cell names
    and the incident page's widths."""
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415

    url, facts = console.url, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{url}/login")
        facts["/login"] = page.evaluate(PAGE_FACTS)
        sign_in(page, url, "comms", totp)
        facts["/"] = page.evaluate(PAGE_FACTS)
        for path in ("/send", "/send/compose", "/send/compose?runbook=phone-lines-down", "/account"):
            page.goto(f"{url}{path}")
            facts[path] = page.evaluate(PAGE_FACTS)
        page.goto(f"{url}/send/compose?runbook=phone-lines-down")
        page.get_by_label(re.compile("next update", re.I)).fill("2pm today")
        page.get_by_role("button", name="Preview").click()
        facts["preview"] = page.evaluate(PAGE_FACTS)
        page.get_by_role("button", name="Confirm and send").click()
        page.wait_for_url(re.compile(r"/incidents/INC-1$"))
        expect(page.get_by_text(re.compile(r"9 of 9 settled"))).to_be_visible(timeout=20_000)
        page.reload()  # the page as the server renders it, a failed cell's retry form included
        facts["incident"] = page.evaluate(PAGE_FACTS)
        labels = page.locator("table.grid td").evaluate_all("(tds) => tds.map((td) => td.ariaLabel)")
        named = {label: page.get_by_role("cell", name=label, exact=True).count() for label in labels}
        widths = page.evaluate(WIDTHS)
        browser.close()
    return {"facts": facts, "cells": named, "widths": widths}


@pytest.fixture
async def walked(console: Console) -> dict[str, Any]:
    totp = await add_user(console, "comms", "--role", "commissioner")
    return await asyncio.to_thread(walk_the_console, console, totp)


async def test_every_form_control_on_every_page_has_a_label(walked: dict[str, Any]) -> None:
    """Sign-in, incidents, send, compose, preview, incident and account: no control without a name."""
    unnamed = {page: f["unnamed"] for page, f in walked["facts"].items() if f["unnamed"]}
    assert unnamed == {}
    assert len(walked["facts"]) == 8


async def test_every_page_has_a_language_one_main_and_one_heading(walked: dict[str, Any]) -> None:
    """lang="en", one <main> landmark and one <h1> on each page walked."""
    shape = {page: (f["lang"], f["mains"], f["h1s"]) for page, f in walked["facts"].items()}
    assert set(shape.values()) == {("en", 1, 1)}, shape


async def test_every_grid_cell_is_named_for_a_screen_reader(walked: dict[str, Any]) -> None:
    """Nine cells, each a cell whose accessible name is like "Riverside Surgery, SMS: delivered"."""
    cells: dict[str, int] = walked["cells"]
    assert len(cells) == 9
    assert all(CELL_NAME.match(name) for name in cells), sorted(cells)
    assert set(cells.values()) == {1}, cells  # Chromium's accessibility tree finds each by its name
    assert "Hillside Practice, Facebook: failed" in cells


async def test_the_incident_page_fits_a_360_px_screen_with_three_channels(walked: dict[str, Any]) -> None:
    """Neither the page nor the grid needs sideways scrolling on a phone: both within 360 px."""
    assert walked["widths"]["page"] <= 360, walked["widths"]
    assert walked["widths"]["grid"] <= 360, walked["widths"]


# --- colour contrast, from the stylesheet as served --------------------------------------------

_RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def luminance(colour: str) -> float:
    """WCAG relative luminance of a #rgb or #rrggbb colour."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colour_rules(css: str) -> dict[str, dict[str, str]]:
    """selector: {"color": ..., "background": ...}, for the rules that set either, as hex."""
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in _RULE.findall(css):
        declared = {}
        for declaration in body.split(";"):
            name, _, value = declaration.partition(":")
            found = _HEX.search(value)
            if found and name.strip() in {"color", "background", "background-color"}:
                declared["color" if name.strip() == "color" else "background"] = found.group(0)
        for selector in selectors.split(","):
            if declared:
                rules.setdefault(selector.strip(), {}).update(declared)
    return rules


def text_pairs(rules: dict[str, dict[str, str]]) -> set[tuple[str, str, str]]:
    """(selector, text colour, background) for every text colour the stylesheet sets: against its
    own rule's background, else the nearest enclosing rule's ("header a" on "header"), else the
    page's and the white of the cards, tables and fields it may sit on."""
    page = rules["body"]
    pairs = {("body", page["color"], page["background"])}
    for selector, declared in rules.items():
        if "color" not in declared:
            continue
        if "background" in declared:
            pairs.add((selector, declared["color"], declared["background"]))
            continue
        words = selector.split()
        enclosing = [
            rules[" ".join(words[:n])] for n in range(len(words) - 1, 0, -1) if " ".join(words[:n]) in rules
        ]
        around = [r["background"] for r in enclosing if "background" in r][:1] or [
            page["background"],
            "#ffffff",
        ]
        pairs |= {(selector, declared["color"], bg) for bg in around}
    for selector, declared in rules.items():
        # A background that sets no colour shows the colour its element's own rule sets
        # ("button.secondary" keeps "button"'s white), else the page's. The header's only text is
        # its links, which set their own.
        if "background" in declared and "color" not in declared and not selector.startswith("header"):
            element = rules.get(re.split(r"[.\[:]", selector, maxsplit=1)[0], {})
            pairs.add((selector, element.get("color", page["color"]), declared["background"]))
    return pairs


async def test_every_text_colour_in_the_stylesheet_has_contrast_of_at_least_4_5(console: Console) -> None:
    """Each text colour of /static/console.css against its background, by WCAG's formula: >= 4.5:1."""
    async with aiohttp.ClientSession() as http, http.get(f"{console.url}/static/console.css") as reply:
        assert reply.status == 200
        css = await reply.text()
    pairs = text_pairs(colour_rules(css))
    assert len(pairs) >= 10, pairs  # the stylesheet was read: body, links, header, badges, buttons
    low = {(s, fg, bg): round(contrast(fg, bg), 2) for s, fg, bg in pairs if contrast(fg, bg) < 4.5}
    assert low == {}
