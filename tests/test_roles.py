"""Every role against every API action, through real HTTP: what each may do and what it is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.directory.practices import Directory
from tests.accounts_helpers import KEYS, bearer, make_token
from tests.api_server import AUTH, OPEN, api_client


@dataclass(frozen=True)
class ApiAction:
    method: str
    path: str
    body: dict[str, Any] | None = None
    allowed_status: int = 200
    resolved_first: bool = False  # reopen needs a resolved incident


ACTIONS = {
    "list incidents": ApiAction("GET", "/api/incidents"),
    "read an incident": ApiAction("GET", "/api/incidents/INC-1"),
    "read the delivery grid": ApiAction("GET", "/api/incidents/INC-1/deliveries"),
    "open an incident": ApiAction("POST", "/api/incidents", OPEN, 201),
    "post an update": ApiAction(
        "POST", "/api/incidents/INC-1/updates", {"status": "identified", "message": "Found it."}, 201
    ),
    "reopen": ApiAction(
        "POST", "/api/incidents/INC-1/reopen", {"message": "It is back."}, 201, resolved_first=True
    ),
    "read the audit trail": ApiAction("GET", "/api/audit"),
    "export the audit trail": ApiAction("GET", "/api/audit.csv"),
}
INCIDENT_WORK = {
    "list incidents",
    "read an incident",
    "read the delivery grid",
    "open an incident",
    "post an update",
    "reopen",
}
# Who may do what; everything not listed is refused with 403. The practice role is bound to
# X99002, the practice INC-1 and OPEN reach.
ALLOWED = {
    "legacy BROADCASTER_API_TOKEN": set(ACTIONS),
    "admin": set(ACTIONS),
    "commissioner": INCIDENT_WORK,
    "practice": INCIDENT_WORK,
    "monitor": set(),
}
PAIRS = [(who, action) for who in ALLOWED for action in ACTIONS]


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> AsyncIterator[TestClient]:
    async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
        yield client


async def _headers_for(engine: AsyncEngine, who: str) -> dict[str, str]:
    if who.startswith("legacy"):
        return AUTH
    role = Role(who)
    return bearer(
        await make_token(engine, f"{who}-token", role, ("X99002",) if role is Role.PRACTICE else ())
    )


@pytest.mark.parametrize(("who", "action"), PAIRS, ids=[f"{w}: {a}" for w, a in PAIRS])
async def test_each_role_may_do_only_what_its_role_allows(
    client: TestClient, engine: AsyncEngine, who: str, action: str
) -> None:
    """An allowed pair gets its success status; a refused one gets 403 naming the role it needs."""
    assert (await client.post("/api/incidents", json=OPEN, headers=AUTH)).status == 201
    todo = ACTIONS[action]
    if todo.resolved_first:
        resolve = {"status": "resolved", "message": "Fixed."}
        assert (await client.post("/api/incidents/INC-1/updates", json=resolve, headers=AUTH)).status == 201
    headers = await _headers_for(engine, who)

    response = await client.request(todo.method, todo.path, json=todo.body, headers=headers)

    if action in ALLOWED[who]:
        assert response.status == todo.allowed_status, await response.text()
    else:
        assert response.status == 403, await response.text()
        error = (await response.json())["error"]
        assert f"({who} role) may not" in error
        assert "that needs the role" in error


async def test_a_revoked_token_is_refused_from_the_next_request(
    client: TestClient, engine: AsyncEngine
) -> None:
    """`tokens revoke` takes effect at once: the same token is then a 401."""
    from tests.accounts_helpers import BY, accounts  # noqa: PLC0415

    token = await make_token(engine, "ci", Role.COMMISSIONER)
    assert (await client.get("/api/incidents", headers=bearer(token))).status == 200
    await accounts(engine).revoke_token("ci", by=BY)
    assert (await client.get("/api/incidents", headers=bearer(token))).status == 401


async def test_without_a_credential_the_api_answers_401_and_pages_send_to_sign_in(client: TestClient) -> None:
    """No token and no session: /api is a JSON 401 saying how to authenticate; a page redirects to /login."""
    response = await client.get("/api/incidents")
    assert response.status == 401
    assert "sign in at /login" in (await response.json())["error"]
    page = await client.get("/account", allow_redirects=False)
    assert page.status == 303
    assert page.headers["Location"] == "/login"
