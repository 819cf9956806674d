"""A practice account sees and acts for its own practices only: other incidents are refused, and
the delivery grid (patients' and staff's numbers and addresses) shows only its rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.directory.practices import Directory
from tests.accounts_helpers import KEYS, bearer, make_token, make_user, sign_in
from tests.api_server import AUTH, api_client

ONLY_X99002 = {"title": "Phones down", "message": "Call {alt_phone}.", "audience": {"ods": ["X99002"]}}
BOTH = {"title": "Website down", "message": "Use NHS 111 online.", "audience": {"ods": ["X99001", "X99002"]}}


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> AsyncIterator[TestClient]:
    async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
        assert (await client.post("/api/incidents", json=ONLY_X99002, headers=AUTH)).status == 201  # INC-1
        assert (await client.post("/api/incidents", json=BOTH, headers=AUTH)).status == 201  # INC-2
        yield client


@pytest.fixture
async def x99001(engine: AsyncEngine) -> dict[str, str]:
    return bearer(await make_token(engine, "riverside", Role.PRACTICE, ("X99001",)))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/incidents/INC-1", None),
        ("GET", "/api/incidents/INC-1/deliveries", None),
        ("POST", "/api/incidents/INC-1/updates", {"status": "identified", "message": "Found it."}),
    ],
)
async def test_another_practices_incident_is_refused(
    client: TestClient, x99001: dict[str, str], method: str, path: str, body: dict[str, str] | None
) -> None:
    """X99001's account cannot read, see the grid of, or update INC-1, which reaches only X99002."""
    response = await client.request(method, path, json=body, headers=x99001)
    assert response.status == 403
    assert "INC-1 does not reach X99001" in (await response.json())["error"]
    assert "Phones down" not in await response.text()


async def test_the_list_holds_only_incidents_that_reach_the_practice(
    client: TestClient, x99001: dict[str, str]
) -> None:
    """GET /api/incidents for X99001 lists INC-2 (X99001 and X99002), not INC-1 (X99002 only)."""
    listed = await (await client.get("/api/incidents", headers=x99001)).json()
    assert [i["ref"] for i in listed] == ["INC-2"]


async def test_the_grid_shows_only_the_practices_own_rows(client: TestClient, x99001: dict[str, str]) -> None:
    """INC-2 reaches two practices; X99001 sees only its rows and counts, the commissioner sees both."""
    everyone = await (await client.get("/api/incidents/INC-2/deliveries", headers=AUTH)).json()
    assert {d["practice"] for d in everyone["deliveries"]} == {"X99001", "X99002"}

    own = await (await client.get("/api/incidents/INC-2/deliveries", headers=x99001)).json()
    assert own["deliveries"]
    assert {d["practice"] for d in own["deliveries"]} == {"X99001"}
    assert not any(d["practice"] == "X99002" for d in own["attention"])

    detail = await (await client.get("/api/incidents/INC-2", headers=x99001)).json()
    assert sum(detail["updates"][0]["deliveries"].values()) == len(own["deliveries"])


async def test_a_practice_update_goes_only_to_its_own_threads(
    client: TestClient, x99001: dict[str, str]
) -> None:
    """X99001 posting to INC-2 (two practices) sends only to X99001's channels, into the same thread."""
    body = {"status": "identified", "message": "Our website is back for bookings."}
    posted = await client.post("/api/incidents/INC-2/updates", json=body, headers=x99001)
    assert posted.status == 201, await posted.text()
    grid = await (await client.get("/api/incidents/INC-2/deliveries?update=1", headers=AUTH)).json()
    assert grid["deliveries"]
    assert {d["practice"] for d in grid["deliveries"]} == {"X99001"}


@pytest.mark.parametrize(
    "audience",
    [{"ods": ["X99002"]}, {"ods": ["X99001", "X99002"]}, {"all": True}, {"groups": ["north-pcn"]}],
    ids=["another practice", "theirs and another", "everyone", "a group with others"],
)
async def test_a_practice_cannot_open_an_incident_beyond_its_practices(
    client: TestClient, x99001: dict[str, str], audience: dict[str, object]
) -> None:
    """Opening for any practice but X99001 is a 403 naming those outside its scope; nothing is written."""
    body = {"title": "Closed today", "message": "We are closed today.", "audience": audience}
    response = await client.post("/api/incidents", json=body, headers=x99001)
    assert response.status == 403
    assert "may open incidents only for X99001" in (await response.json())["error"]
    assert len(await (await client.get("/api/incidents", headers=AUTH)).json()) == 2


async def test_a_practice_may_open_an_incident_for_its_own_practice(
    client: TestClient, x99001: dict[str, str]
) -> None:
    """X99001 opening for X99001 is accepted and its author is the account's name."""
    body = {"title": "Closed today", "message": "We are closed today.", "audience": {"ods": ["X99001"]}}
    response = await client.post("/api/incidents", json=body, headers=x99001)
    assert response.status == 201
    detail = await (await client.get("/api/incidents/INC-3", headers=x99001)).json()
    assert detail["updates"][0]["author"] == "riverside"


async def test_a_signed_in_practice_user_is_refused_another_practices_incident(
    client: TestClient, engine: AsyncEngine
) -> None:
    """The same scope holds for a person signed in with the console's session as for a token."""
    totp, _ = await make_user(engine, "pat", Role.PRACTICE, ("X99001",))
    assert (await sign_in(client, "pat", totp)).status == 303
    assert (await client.get("/api/incidents/INC-2")).status == 200
    refused = await client.get("/api/incidents/INC-1")
    assert refused.status == 403
    assert "pat sees only incidents for those practices" in (await refused.json())["error"]
