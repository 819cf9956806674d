"""Hostile and careless input to the HTTP API: a 4xx with a JSON body naming what to fix, never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from broadcaster.directory.practices import Directory
from tests.api_server import AUTH, OPEN, TOKEN, raw_request


async def _incidents(client: TestClient) -> list[Any]:
    response = await client.get("/api/incidents", headers=AUTH)
    assert response.status == 200
    return await response.json()  # type: ignore[no-any-return]


async def _refused(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """POST `body` as a new incident; it must be a 400 that creates nothing. Returns the reply."""
    response = await client.post("/api/incidents", json=body, headers=AUTH)
    assert response.status == 400
    assert await _incidents(client) == []
    return await response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("raw", [b"{", b"", b"\xff\xfe", b'{"title": "Phones down",'])
async def test_body_that_is_not_json_is_a_400_saying_so(client: TestClient, raw: bytes) -> None:
    """A malformed or empty body is refused as not JSON, not answered with a server error."""
    response = await client.post(
        "/api/incidents", data=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert "not valid JSON" in (await response.json())["error"]


async def test_update_with_a_body_that_is_not_json_is_a_400(client: TestClient) -> None:
    """The update route reads its body the same way."""
    assert (await client.post("/api/incidents", json=OPEN, headers=AUTH)).status == 201
    response = await client.post("/api/incidents/INC-1/updates", data=b"", headers=AUTH)
    assert response.status == 400
    assert "not valid JSON" in (await response.json())["error"]


@pytest.mark.parametrize("ref", ["INC-²", "INC-①", "INC-٣", "INC-99999999999999999999", "INC-0"])
async def test_reference_that_is_not_an_incident_number_is_a_404_saying_what_refs_look_like(
    client: TestClient, ref: str
) -> None:
    """Superscript, circled or Arabic-Indic digits and numbers past the store's range are refused."""
    for response in (
        await client.get(f"/api/incidents/{ref}", headers=AUTH),
        await client.post(
            f"/api/incidents/{ref}/updates", json={"status": "resolved", "message": "Fixed."}, headers=AUTH
        ),
    ):
        assert response.status == 404
        assert "references look like INC-42" in (await response.json())["error"]


@pytest.mark.parametrize("value", [b"Bearer \xff\xfe", b"Bearer t\xf6ken", "Bearer tök".encode()])
async def test_authorization_header_that_is_not_ascii_is_a_401(client: TestClient, value: bytes) -> None:
    """Bytes that are not UTF-8 (or not ASCII) in the Authorization header are a wrong token, not a 500."""
    body = b'{"title": "x", "message": "y", "audience": {"all": true}}'
    status, reply = await raw_request(
        client,
        b"POST /api/incidents HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\nAuthorization: %s\r\n\r\n%s"
        % (len(body), value, body),
    )
    assert status == 401
    assert b"the API token is wrong" in reply
    assert await _incidents(client) == []


async def test_all_given_as_a_string_is_refused_not_taken_as_true(client: TestClient) -> None:
    """`"all": "yes"` would have gone to every practice; only JSON true or false is a boolean."""
    reply = await _refused(client, {**OPEN, "audience": {"all": "yes"}})
    assert reply["details"] == [
        {
            "field": "audience.all",
            "loc": ["audience", "all"],
            "problem": "must be true or false (a JSON boolean, not a string or number)",
        }
    ]


async def test_empty_channel_list_is_refused(client: TestClient) -> None:
    """`"channels": []` used to open an incident with 0 deliveries; it must name at least one."""
    reply = await _refused(client, {**OPEN, "channels": []})
    assert reply["error"] == (
        "invalid request body: channels: must not be empty: "
        "name at least one of facebook, sms, email, apprise"
    )


async def test_unknown_field_is_refused_by_name(client: TestClient) -> None:
    """A mistyped field (`chanels`) is refused, naming it and the fields that are accepted."""
    reply = await _refused(client, {**OPEN, "chanels": ["sms"]})
    assert reply["details"][0]["field"] == "chanels"
    assert "unknown field" in reply["details"][0]["problem"]
    assert "channels" in reply["details"][0]["problem"]


async def test_blank_title_is_refused(client: TestClient) -> None:
    """A title of spaces would give the email subject "[INC-1] "."""
    reply = await _refused(client, {**OPEN, "title": "   "})
    assert reply["details"][0] == {"field": "title", "loc": ["title"], "problem": "must not be blank"}


async def test_body_refusals_show_no_internals(client: TestClient) -> None:
    """A refused body names fields, not the server's classes, error codes or documentation URLs."""
    response = await client.post("/api/incidents", json=[OPEN], headers=AUTH)
    text = await response.text()
    assert response.status == 400
    assert (await response.json())["error"] == "invalid request body: expected a JSON object {...}"
    for internal in ("OpenIncidentBody", "model_type", "ctx", "pydantic"):
        assert internal not in text


async def test_refused_audience_names_no_path_on_the_server(
    client: TestClient, example_directory: Directory
) -> None:
    """A 422 for an unknown ODS code says "the practice directory", not where the file sits on the server."""
    response = await client.post(
        "/api/incidents", json={**OPEN, "audience": {"ods": ["Z99999"]}}, headers=AUTH
    )
    text = await response.text()
    assert response.status == 422
    assert (await response.json())["error"].startswith("ODS code Z99999 not found in the practice directory;")
    assert str(example_directory.path.parent) not in text
    assert TOKEN not in text


async def test_unknown_path_and_method_are_json_errors(client: TestClient) -> None:
    """The router's own 404 and 405 answer with a JSON error too."""
    missing = await client.get("/api/nothing-here", headers=AUTH)
    wrong_method = await client.delete("/api/incidents", headers=AUTH)
    assert missing.status == 404
    assert "error" in await missing.json()
    assert wrong_method.status == 405
    assert "error" in await wrong_method.json()
    assert "POST" in wrong_method.headers["Allow"]


async def test_an_incident_opens_from_a_runbook_over_the_api(client: TestClient, tmp_path: Path) -> None:
    """The API opens from a runbook as the console does: its wording, its title, its fields."""
    body = {"runbook": "phone-lines-down", "fields": {"next_update": "2pm"}, "audience": {"ods": ["X99002"]}}
    async with client.post("/api/incidents", json=body, headers=AUTH) as reply:
        assert reply.status == 201, await reply.text()
        opened = await reply.json()
    assert opened["deliveries"] > 0
    async with client.get(f"/api/incidents/{opened['ref']}", headers=AUTH) as reply:
        found = await reply.json()
    assert found["title"] == "Phone lines down"
    assert "Our phone lines are down" in found["updates"][0]["message"]


async def test_a_runbook_and_a_message_together_are_refused(client: TestClient) -> None:
    body = {"runbook": "phone-lines-down", "message": "Down.", "audience": {"ods": ["X99002"]}}
    refused = await _refused(client, body)
    assert "runbook or a message, not both" in refused["error"]
