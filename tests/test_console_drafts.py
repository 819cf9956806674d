"""A monitor's draft in the console, through real HTTP with a signed-in session: the list marks it
DRAFT, its page shows the message with Confirm and send / Discard (and no update form), the
buttons decide it, and a stale form is refused on the page without sending anything."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.directory.practices import Directory
from tests.accounts_helpers import KEYS, bearer, csrf_of, make_token, make_user, sign_in
from tests.api_server import AUTH, api_client
from tests.polling import eventually
from tests.test_drafts_api import delivered
from tests.test_monitor_hooks import alertmanager, hook, updates_of


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> AsyncIterator[TestClient]:
    """The app with INC-1 drafted by an Alertmanager alert (policy=draft) and a commissioner signed in."""
    async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
        monitor = bearer(await make_token(engine, "prometheus", Role.MONITOR))
        status, _ = await hook(client, "alertmanager", alertmanager("firing", policy="draft"), monitor)
        assert status == 200
        totp, _ = await make_user(engine, "comms", Role.COMMISSIONER)
        assert (await sign_in(client, "comms", totp)).status == 303
        yield client


async def page(client: TestClient, path: str) -> str:
    async with client.get(path) as reply:
        assert reply.status == 200, path
        return await reply.text()


async def decide(
    client: TestClient, decision: str, seq: str = "0", csrf_from: str = "/incidents/INC-1"
) -> tuple[int, str]:
    form = {"csrf_token": await csrf_of(client, csrf_from), "seq": seq}
    async with client.post(f"/incidents/INC-1/{decision}", data=form, allow_redirects=False) as reply:
        return reply.status, await reply.text()


async def test_the_draft_is_marked_and_shown_in_full_with_its_two_buttons(client: TestClient) -> None:
    """DRAFT in the list and on the page; the message to read; no update form until it is decided."""
    assert 'class="state draft">DRAFT</span>' in await page(client, "/")
    shown = await page(client, "/incidents/INC-1")
    assert "Draft waiting for you" in shown
    assert "prometheus raised this first message" in shown
    assert "online booking" in shown
    assert 'action="/incidents/INC-1/confirm"' in shown
    assert 'action="/incidents/INC-1/discard"' in shown
    assert 'action="/incidents/INC-1/updates"' not in shown
    assert "8 held" in shown  # the grid's summary: nothing is on its way


async def test_confirm_and_send_sends_it(client: TestClient, tmp_path: Path) -> None:
    """The button confirms it (303 back to the page); its messages go out; the banner is gone."""
    status, _ = await decide(client, "confirm")
    assert status == 303
    await eventually(lambda: len(delivered(tmp_path)) == 8)
    shown = await page(client, "/incidents/INC-1")
    assert "Draft waiting for you" not in shown
    assert 'action="/incidents/INC-1/updates"' in shown
    (opening,) = await updates_of(client, "INC-1")
    assert (opening["draft"], opening["decided_by"]) == ("confirmed", "comms")


async def test_discard_closes_it_unsent(client: TestClient, tmp_path: Path) -> None:
    """Discarded: DISCARDED (never sent) in the list, no reopen form, nothing delivered."""
    assert (await decide(client, "discard"))[0] == 303
    assert "DISCARDED (never sent)" in await page(client, "/")
    shown = await page(client, "/incidents/INC-1")
    assert "Reopen and send" not in shown
    assert "never sent" in shown
    assert "8 of 8 settled: 8 discarded." in shown  # nothing left to happen
    await asyncio.sleep(1.0)  # time for the running dispatcher to have sent anything due
    assert delivered(tmp_path) == []


async def test_a_stale_form_is_refused_on_the_page(client: TestClient, tmp_path: Path) -> None:
    """A form for another update number: 409, said above the grid, the draft still waiting."""
    status, shown = await decide(client, "confirm", seq="1")
    assert status == 409
    assert 'role="alert"' in shown
    assert "waiting draft is update 0, not 1" in shown
    assert "Draft waiting for you" in shown
    assert (await updates_of(client, "INC-1"))[0]["draft"] == "waiting"


async def test_a_practice_user_may_not_decide_a_draft_for_others(
    client: TestClient, engine: AsyncEngine
) -> None:
    """INC-1 reaches X99001 and X99002: a practice user of X99001 is refused, with the reason."""
    totp, _ = await make_user(engine, "pat", Role.PRACTICE, ("X99001",))
    assert (await sign_in(client, "pat", totp)).status == 303
    page_shown = await page(client, "/incidents/INC-1")
    assert "Draft waiting for you" in page_shown
    assert 'action="/incidents/INC-1/confirm"' not in page_shown  # no button that would be refused
    assert "a commissioner confirms or discards it" in page_shown
    status, shown = await decide(client, "confirm", csrf_from="/account")  # a form posted anyway
    assert status == 403
    assert "a commissioner confirms or discards a draft for several practices" in shown
    async with client.get("/api/incidents/INC-1", headers=AUTH) as reply:
        assert (await reply.json())["waiting_draft"] == 0
