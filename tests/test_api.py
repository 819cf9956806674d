"""The HTTP API served by `broadcaster serve`, through aiohttp's test client against a real store."""

from __future__ import annotations

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
from tests.polling import eventually_async

TOKEN = "api-token-S3CRET"


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path, aiohttp_client: object
) -> AsyncIterator[TestClient]:
    settings = Settings(outbox_dir=tmp_path / "outbox", api_token=SecretStr(TOKEN))
    routes = {e.route for p in example_directory.practices for e in example_directory.endpoints(p)}
    async with running_dispatcher(engine, settings, routes) as dispatcher:
        app = make_app(engine=engine, settings=settings, directory=example_directory, dispatcher=dispatcher)
        yield await aiohttp_client(app)  # type: ignore[operator]


AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Actor": "comms.officer"}
OPEN = {"title": "Phones down", "message": "Call {alt_phone}.", "audience": {"ods": ["X99002"]}}


async def test_health_check_answers(client: TestClient) -> None:
    """/healthz proves the process and its database answer."""
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_writes_need_the_bearer_token(client: TestClient) -> None:
    """Opening an incident without the token is refused and nothing is created."""
    response = await client.post("/api/incidents", json=OPEN)
    assert response.status == 401
    assert (await (await client.get("/api/incidents", headers=AUTH)).json()) == []


async def test_opened_incident_is_delivered_and_reported(client: TestClient, tmp_path: Path) -> None:
    """A POST opens the incident; the dispatcher delivers it; the detail shows every delivery landed."""
    response = await client.post("/api/incidents", json=OPEN, headers=AUTH)
    assert response.status == 201
    assert await response.json() == {"ref": "INC-1", "deliveries": 3}

    found: dict[str, object] = {}

    async def all_delivered() -> bool:
        found.update(await (await client.get("/api/incidents/INC-1", headers=AUTH)).json())
        return found["updates"][0]["deliveries"] == {"delivered": 3}  # type: ignore[index, no-any-return]

    await eventually_async(all_delivered)
    assert found["updates"][0]["author"] == "api-token"  # type: ignore[index]
    assert (tmp_path / "outbox/INC-1/X99002").is_dir()


async def test_bad_request_body_says_which_field(client: TestClient) -> None:
    """A missing field is a 400 naming it, not a server error."""
    response = await client.post("/api/incidents", json={"title": "x"}, headers=AUTH)
    assert response.status == 400
    body = await response.json()
    assert {tuple(d["loc"]) for d in body["details"]} >= {("message",), ("audience",)}


async def test_refused_content_is_a_422_with_the_reason(client: TestClient) -> None:
    """An unknown ODS code is refused with the same words the CLI uses."""
    response = await client.post(
        "/api/incidents", json={**OPEN, "audience": {"ods": ["Z99999"]}}, headers=AUTH
    )
    assert response.status == 422
    assert "ODS code Z99999 not found" in (await response.json())["error"]
