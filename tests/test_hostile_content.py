"""Hostile or careless content through the real CLI and the HTTP API: refused with a reason
before anything is written, or delivered exactly as a reader should see it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.delivery.runtime import running_dispatcher
from broadcaster.directory.practices import Directory
from broadcaster.web.api import make_app
from tests.cli_runner import run_cli
from tests.polling import eventually_async
from tests.test_cli_content import nothing_written

TOKEN = "api-token-S3CRET"
AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Actor": "comms.officer"}
OPEN = {"title": "Phones down", "message": "Call {alt_phone}.", "audience": {"ods": ["X99002"]}}
INJECTED_TITLE = "Phones down\r\nBcc: attacker@evil.example"
# 943 476 5919 is a valid NHS number; each of these shows it to a reader.
HIDDEN_NHS_NUMBERS = {
    "zero-width spaces": "Mrs Jones 943\u200b476\u200b5919 please call us.",
    "full-width digits": "Mrs Jones \uff19\uff14\uff13 \uff14\uff17\uff16 \uff15\uff19\uff11\uff19 call us.",
}


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path, aiohttp_client: object
) -> AsyncIterator[TestClient]:
    settings = Settings(outbox_dir=tmp_path / "outbox", api_token=SecretStr(TOKEN))
    routes = {e.route for p in example_directory.practices for e in example_directory.endpoints(p)}
    async with running_dispatcher(engine, settings, routes) as dispatcher:
        app = make_app(engine=engine, settings=settings, directory=example_directory, dispatcher=dispatcher)
        yield await aiohttp_client(app)  # type: ignore[operator]


async def refusal(client: TestClient, body: dict[str, object]) -> str:
    """POST an incident that must be refused: its 422 error text."""
    response = await client.post("/api/incidents", json=body, headers=AUTH)
    assert response.status == 422, await response.text()
    error = (await response.json())["error"]
    assert isinstance(error, str)
    return error


# --- control characters (issue 8, findings 3 and 8) ----------------------------------------------


def test_cli_refuses_a_title_with_a_line_break_and_sends_nothing(tmp_path: Path) -> None:
    """A CR LF in the title would add a Bcc: header to every email: refused, naming where it is."""
    result = run_cli(tmp_path, "send", "--title", INJECTED_TITLE, "--ods", "X99001", "--message", "Call us.")
    assert result.code == 2, result.err
    assert "the title contains a line break (CR), U+000D, at character 12" in result.err
    assert "Traceback" not in result.err
    assert nothing_written(tmp_path)


async def test_api_refuses_a_title_with_a_line_break(client: TestClient, tmp_path: Path) -> None:
    """The API refuses the same title with a 422 saying why; no incident, no email file."""
    error = await refusal(client, {**OPEN, "title": INJECTED_TITLE})
    assert "the title contains a line break (CR), U+000D, at character 12" in error
    assert await (await client.get("/api/incidents", headers=AUTH)).json() == []
    assert not (tmp_path / "outbox").exists()


def test_cli_refuses_a_blank_title(tmp_path: Path) -> None:
    """A title of spaces would give every email the subject "[INC-1] ": refused."""
    result = run_cli(tmp_path, "send", "--title", "   ", "--ods", "X99001", "--message", "Call us.")
    assert result.code == 2, result.err
    assert "the title is blank" in result.err
    assert nothing_written(tmp_path)


async def test_api_refuses_a_blank_title(client: TestClient) -> None:
    """Spaces and a zero-width space are no title either."""
    error = await refusal(client, {**OPEN, "title": " \u200b "})
    assert "the title is blank" in error


@pytest.mark.parametrize(
    ("field", "value"),
    [("message", "Phones\u0000down, call us."), ("title", "Phones\u0000down")],
)
async def test_api_refuses_a_nul_character(client: TestClient, field: str, value: str) -> None:
    """A NUL in a message or title never reaches a header, a post or a text."""
    error = await refusal(client, {**OPEN, field: value})
    assert "a NUL character, U+0000, at character 7" in error


async def test_api_refuses_an_escape_character_in_the_message(client: TestClient) -> None:
    """A terminal escape sequence is not text: refused, naming the character."""
    error = await refusal(client, {**OPEN, "message": "Call us.\u001b[2J"})
    assert "the message contains an escape character, U+001B, at character 9" in error


def test_cli_refuses_a_control_character_brought_by_a_runbook_field(tmp_path: Path) -> None:
    """A field value is filled into the runbook's texts: the same rule holds for it."""
    result = run_cli(
        tmp_path,
        "send",
        "--runbook",
        "phone-lines-down",
        "--field",
        "next_update=2pm\x07",
        "--ods",
        "X99001",
    )
    assert result.code == 2, result.err
    assert "with its fields filled in contains a control character, U+0007" in result.err
    assert nothing_written(tmp_path)


async def test_windows_line_breaks_in_a_message_arrive_as_plain_line_breaks(
    client: TestClient, tmp_path: Path
) -> None:
    """A message may keep its line breaks: CR LF becomes the newline every channel expects."""
    response = await client.post(
        "/api/incidents", json={**OPEN, "message": "Phones down.\r\nCall {alt_phone}."}, headers=AUTH
    )
    assert response.status == 201, await response.text()
    post = tmp_path / "outbox/INC-1/X99002/00-facebook-100000000990002.txt"

    async def posted() -> bool:
        return post.exists()

    await eventually_async(posted)
    text = post.read_bytes()  # as written: read_text would turn CR LF into LF itself
    assert b"\r" not in text
    assert b"Phones down.\nCall 0113 496 0002." in text


def test_cli_refuses_a_text_that_is_only_emoji(tmp_path: Path) -> None:
    """Emoji are removed from texts; a text of nothing else would say only the practice's name."""
    result = run_cli(
        tmp_path, "send", "--title", "Phones down", "--ods", "X99001", "--message", "\U0001f6a8\u260e\ufe0f"
    )
    assert result.code == 2, result.err
    assert "the text message would be empty" in result.err
    assert nothing_written(tmp_path)


# --- confidentiality as delivered (issue 8, finding 4) -------------------------------------------


@pytest.mark.parametrize("message", HIDDEN_NHS_NUMBERS.values(), ids=HIDDEN_NHS_NUMBERS.keys())
def test_cli_refuses_an_nhs_number_hidden_by_unicode(tmp_path: Path, message: str) -> None:
    """Zero-width spaces or full-width digits do not hide an NHS number from the check."""
    result = run_cli(tmp_path, "send", "--title", "Call back", "--ods", "X99001", "--message", message)
    assert result.code == 2, result.err
    assert "NHS number" in result.err
    assert "--confidentiality-override" in result.err
    assert nothing_written(tmp_path)


@pytest.mark.parametrize("message", HIDDEN_NHS_NUMBERS.values(), ids=HIDDEN_NHS_NUMBERS.keys())
async def test_api_refuses_an_nhs_number_hidden_by_unicode(client: TestClient, message: str) -> None:
    """The API applies the same reading of the text."""
    error = await refusal(client, {**OPEN, "message": message, "channels": ["facebook"]})
    assert "Found what looks like an NHS number" in error
    assert "5919" not in error


# --- sizes (issue 8, finding 5) ------------------------------------------------------------------

# Dense with findings: before the scan was made linear, 280 KB of this took minutes to refuse.
LONG_LINE = "Mrs Jones, NHS number 943 476 5919, please call the surgery. "
BIG_MESSAGE = (LONG_LINE * (280 * 1024 // len(LONG_LINE) + 1))[: 280 * 1024]


async def test_a_280_kb_message_is_refused_for_its_size_while_a_normal_post_goes_through(
    client: TestClient,
) -> None:
    """Six 280 KB posts at once are each refused for size, naming the limit; a normal post sent
    while they are in flight is accepted and delivered."""
    big = [
        asyncio.create_task(
            client.post("/api/incidents", json={**OPEN, "message": BIG_MESSAGE}, headers=AUTH)
        )
        for _ in range(6)
    ]
    normal = await client.post("/api/incidents", json=OPEN, headers=AUTH)
    assert normal.status == 201, await normal.text()
    ref = (await normal.json())["ref"]
    for response in await asyncio.gather(*big):
        assert response.status == 422
        error = (await response.json())["error"]
        assert "the message is 286,720 characters; no channel takes more than 63,206" in error
        assert "NHS number" not in error  # refused before the scan read it

    async def delivered() -> bool:
        detail = await (await client.get(f"/api/incidents/{ref}", headers=AUTH)).json()
        return detail["updates"][0]["deliveries"] == {"delivered": 3}  # type: ignore[no-any-return]

    await eventually_async(delivered)


async def test_a_long_message_is_capped_per_channel(client: TestClient) -> None:
    """30,000 characters fit a Facebook post but not an email: refused for the email, by name."""
    body = {**OPEN, "message": "Phones down. " * 2308, "channels": ["facebook", "email"]}
    error = await refusal(client, body)
    assert "the email is 30,003 characters; the limit is 20,000" in error
    assert "the Facebook post" not in error


async def test_a_long_message_for_facebook_alone_is_accepted(client: TestClient) -> None:
    """The same message sent to Facebook only is within its limit, and goes."""
    response = await client.post(
        "/api/incidents",
        json={**OPEN, "message": "Phones down. " * 2308, "channels": ["facebook"]},
        headers=AUTH,
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["deliveries"] == 1
