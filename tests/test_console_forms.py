"""The console's forms through real HTTP with a signed-in session: a refused update keeps what was
typed, and a send the confidentiality check flags needs a typed reason, which is audited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import escape
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.directory.practices import Directory
from tests.accounts_helpers import KEYS, csrf_of, make_user, sign_in
from tests.api_server import AUTH, OPEN, api_client

NHS_NUMBER = "Mrs Jones, NHS number 943 476 5919, please call the surgery."


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> AsyncIterator[TestClient]:
    """The app with INC-1 open (free text, X99002) and a commissioner signed in."""
    async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
        assert (await client.post("/api/incidents", json=OPEN, headers=AUTH)).status == 201
        totp, _ = await make_user(engine, "comms", Role.COMMISSIONER)
        assert (await sign_in(client, "comms", totp)).status == 303
        yield client


async def test_a_refused_update_shows_the_form_again_with_what_was_typed(client: TestClient) -> None:
    """An update naming a patient is refused (422); the form keeps its status, message and texting."""
    typed = {"status": "identified", "message": NHS_NUMBER + " <b>Thanks</b>", "sms": "on"}
    form = {"csrf_token": await csrf_of(client, "/incidents/INC-1"), **typed}

    refused = await client.post("/incidents/INC-1/updates", data=form, allow_redirects=False)

    assert refused.status == 422
    page = await refused.text()
    assert 'role="alert"' in page
    assert "NHS number" in page
    message = re.search(r'<textarea id="message" name="message"[^>]*>([^<]*)</textarea>', page)
    assert message is not None
    assert message.group(1) == escape(typed["message"])
    assert '<option value="identified" selected>' in page
    assert re.search(r'<input type="checkbox" name="sms" value="on" checked>', page)


async def test_a_refused_update_keeps_the_override_reason_that_was_typed(client: TestClient) -> None:
    """A reason typed beside an update that is refused for another cause is not lost either."""
    form = {
        "csrf_token": await csrf_of(client, "/incidents/INC-1"),
        "status": "identified",
        "message": "Ring {no_such_placeholder}.",
        "confidentiality_override": "drill",
    }
    refused = await client.post("/incidents/INC-1/updates", data=form, allow_redirects=False)
    assert refused.status == 422
    assert 'name="confidentiality_override" value="drill"' in await refused.text()


async def test_a_console_send_of_flagged_content_needs_a_typed_reason_which_is_audited(
    client: TestClient,
) -> None:
    """Preview shows the refusal; confirming without a reason is 422 and sends nothing; with one it opens."""
    csrf = await csrf_of(client, "/send/compose")
    form = {
        "csrf_token": csrf,
        "title": "Call back",
        "message": NHS_NUMBER,
        "severity": "major",
        "audience": "practices",
        "ods": "X99001",
        "channel": "email",
    }
    preview = await client.post("/send/preview", data=form)
    assert preview.status == 200
    page = await preview.text()
    assert "this looks like it identifies a patient" in page
    assert 'name="confidentiality_override" required' in page
    assert "5919" not in page.split("<pre>")[0]  # the verdict masks it; only the message itself shows it

    refused = await client.post("/send", data=form, allow_redirects=False)
    assert refused.status == 422
    assert "NHS number" in await refused.text()
    listed = await (await client.get("/api/incidents", headers=AUTH)).json()
    assert [i["ref"] for i in listed] == ["INC-1"]

    sent = await client.post(
        "/send",
        data={**form, "confidentiality_override": "a drill with a test patient"},
        allow_redirects=False,
    )
    assert sent.status == 303
    assert sent.headers["Location"] == "/incidents/INC-2"
    audit = await (await client.get("/api/audit", headers=AUTH)).json()
    opened = next(e for e in audit["events"] if e["action"] == "incident_opened")
    assert opened["actor"] == "comms"
    assert opened["detail"]["confidentiality_override"] == "a drill with a test patient"
