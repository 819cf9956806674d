"""The HTTP API keeps the incident lifecycle: no updates after resolve until POST .../reopen."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.api_server import AUTH, OPEN
from tests.polling import eventually_async

RESOLVE = {"status": "resolved", "message": "Phones are back."}
ENDPOINTS = 3  # X99002 in the example directory: one page, one mobile, one mailbox


async def post(client: TestClient, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with client.post(path, json=body, headers=AUTH) as response:
        return response.status, await response.json()


def outbox_files_saying(tmp_path: Path, words: str) -> int:
    """Messages the outbox provider wrote (the example directory's stand-in for every channel)."""
    return sum(words in f.read_text() for f in (tmp_path / "outbox").rglob("*") if f.is_file())


async def settled(client: TestClient, seq: int) -> None:
    async def delivered() -> bool:
        detail = await (await client.get("/api/incidents/INC-1", headers=AUTH)).json()
        return bool(detail["updates"][seq]["deliveries"] == {"delivered": ENDPOINTS})

    await eventually_async(delivered)


async def test_update_after_resolve_is_a_409_until_reopened(client: TestClient, tmp_path: Path) -> None:
    """Resolve, then update: 409 saying how to reopen; after POST .../reopen updates go out."""
    assert (await post(client, "/api/incidents", OPEN))[0] == 201
    assert (await post(client, "/api/incidents/INC-1/updates", RESOLVE))[0] == 201
    status, body = await post(
        client, "/api/incidents/INC-1/updates", {"status": "investigating", "message": "Down again?"}
    )
    assert status == 409
    assert "INC-1 is resolved" in body["error"]
    assert "POST /api/incidents/INC-1/reopen" in body["error"]

    status, body = await post(client, "/api/incidents/INC-1/reopen", {"message": "Down again."})
    assert (status, body) == (201, {"ref": "INC-1", "seq": 2, "deliveries": ENDPOINTS})
    status, body = await post(
        client, "/api/incidents/INC-1/updates", {"status": "monitoring", "message": "Back."}
    )
    assert (status, body["seq"]) == (201, 3)
    await settled(client, 2)
    assert outbox_files_saying(tmp_path, "Reopened: Down again.") == 1  # the page's comment
    assert outbox_files_saying(tmp_path, "Reopened: Oak Lane Medical Centre: Down again.") == 1  # the text
    assert outbox_files_saying(tmp_path, "Update 2 - Reopened, Investigating") == 1  # the email


async def test_reopening_an_open_incident_is_a_409(client: TestClient) -> None:
    """Nothing to reopen: 409, and no update is written."""
    assert (await post(client, "/api/incidents", OPEN))[0] == 201
    status, body = await post(client, "/api/incidents/INC-1/reopen", {"message": "Down again."})
    assert status == 409
    assert "INC-1 is not resolved" in body["error"]
    detail = await (await client.get("/api/incidents/INC-1", headers=AUTH)).json()
    assert len(detail["updates"]) == 1


async def test_two_resolves_at_once_send_exactly_one(client: TestClient, tmp_path: Path) -> None:
    """Two resolve requests in flight together: one 201, one 409, one set of "Resolved" messages."""
    assert (await post(client, "/api/incidents", OPEN))[0] == 201
    await settled(client, 0)
    replies = await asyncio.gather(*(post(client, "/api/incidents/INC-1/updates", RESOLVE) for _ in range(2)))
    assert sorted(status for status, _ in replies) == [201, 409]
    await settled(client, 1)
    detail = await (await client.get("/api/incidents/INC-1", headers=AUTH)).json()
    assert [u["status"] for u in detail["updates"]] == ["investigating", "resolved"]
    assert outbox_files_saying(tmp_path, "Phones are back.") == ENDPOINTS
