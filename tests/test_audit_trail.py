"""The audit trail an admin reads and exports: who (name and credential), what, when, from where."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.directory.practices import Directory
from tests.accounts_helpers import KEYS, bearer, csrf_of, make_token, make_user, sign_in
from tests.api_server import AUTH, OPEN, api_client


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> AsyncIterator[TestClient]:
    async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
        yield client


async def _events(client: TestClient, query: str = "") -> list[dict[str, object]]:
    response = await client.get(f"/api/audit{query}", headers=AUTH)
    assert response.status == 200
    events: list[dict[str, object]] = (await response.json())["events"]
    return events


async def test_each_action_records_who_how_what_and_from_where(
    client: TestClient, engine: AsyncEngine
) -> None:
    """A token opens INC-1, a signed-in user updates it: both are in the trail, newest first."""
    token = await make_token(engine, "ci", Role.COMMISSIONER)
    assert (await client.post("/api/incidents", json=OPEN, headers=bearer(token))).status == 201
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    assert (await sign_in(client, "cora", totp)).status == 303
    update = {"status": "identified", "message": "Found it."}
    headers = {"X-CSRF-Token": await csrf_of(client, "/account")}
    assert (await client.post("/api/incidents/INC-1/updates", json=update, headers=headers)).status == 201

    events = await _events(client)
    actions = [(e["action"], e["actor"], e["credential"], e["origin"], e["incident"]) for e in events[:5]]
    assert actions == [
        ("update_posted", "cora", "session", "web 127.0.0.1", "INC-1"),
        ("signed_in", "cora", "session", "web 127.0.0.1", None),
        ("user_added", "test-setup", "cli", "cli@test", None),
        ("incident_opened", "ci", "api-token", "api 127.0.0.1", "INC-1"),
        ("token_added", "test-setup", "cli", "cli@test", None),
    ]
    assert str(events[0]["at"]).endswith("+00:00")
    assert events[1]["detail"] == {"second_factor": "totp"}


async def test_the_audit_trail_exports_as_csv_and_the_export_is_audited(client: TestClient) -> None:
    """GET /api/audit.csv is a download, one row per event under a header; the export is recorded too."""
    assert (await client.post("/api/incidents", json=OPEN, headers=AUTH)).status == 201
    response = await client.get("/api/audit.csv", headers=AUTH)
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(r["action"], r["actor"], r["credential"], r["incident"]) for r in rows] == [
        ("incident_opened", "api-token", "legacy-token", "INC-1")
    ]
    assert '"title": "Phones down"' in rows[0]["detail"]
    assert (await _events(client))[0]["action"] == "audit_exported"


async def test_the_audit_trail_pages_back_and_refuses_a_bad_limit(client: TestClient) -> None:
    """?limit=1&before=ID walks back one event at a time; ?limit=lots is a 400 saying what to send."""
    for _ in range(2):
        assert (await client.post("/api/incidents", json=OPEN, headers=AUTH)).status == 201
    newest = await _events(client, "?limit=1")
    older = await _events(client, f"?limit=1&before={newest[0]['id']}")
    assert [e["incident"] for e in newest + older] == ["INC-2", "INC-1"]
    bad = await client.get("/api/audit?limit=lots", headers=AUTH)
    assert bad.status == 400
    assert "must be a whole number" in (await bad.json())["error"]
