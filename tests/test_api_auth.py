"""The API's one credential: reads need it like writes, wrong guesses are slowed, the audit names it."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.directory.practices import Directory
from broadcaster.store.schema import audit_events
from broadcaster.web.auth import FailedTokenLimiter
from tests.api_server import AUTH, OPEN, api_client

WRONG = {"Authorization": "Bearer not-the-token"}


class FakeClock:
    """Monotonic seconds that a test moves on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _open_one(client: TestClient) -> None:
    assert (await client.post("/api/incidents", json=OPEN, headers=AUTH)).status == 201


@pytest.mark.parametrize("path", ["/api/incidents", "/api/incidents/INC-1"])
async def test_reads_need_the_token(client: TestClient, path: str) -> None:
    """Listing incidents or reading one (messages, authors, delivery states) without the token is a 401."""
    await _open_one(client)
    for headers in ({}, WRONG):
        response = await client.get(path, headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Phones down" not in await response.text()
    assert (await client.get(path, headers=AUTH)).status == 200


async def test_without_a_token_set_no_bearer_is_accepted_but_health_checks_answer(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """With BROADCASTER_API_TOKEN unset and no token added, /api requests are 401; the probes answer."""
    async with api_client(engine, example_directory, tmp_path, token=None) as client:
        for response in (
            await client.get("/api/incidents", headers=AUTH),
            await client.post("/api/incidents", json=OPEN, headers=AUTH),
            await client.get("/api/incidents", headers={"Authorization": "Bearer "}),
        ):
            assert response.status == 401
            assert "broadcaster tokens add" in (await response.json())["error"]
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/readyz")).status == 200


async def test_wrong_tokens_from_one_address_are_refused_with_429_and_retry_after(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """After 10 wrong tokens in a minute the address gets 429 and Retry-After, even with the right token."""
    clock = FakeClock()
    limiter = FailedTokenLimiter(limit=10, window_seconds=60, clock=clock)
    async with api_client(engine, example_directory, tmp_path, failed_tokens=limiter) as client:
        statuses = [(await client.get("/api/incidents", headers=WRONG)).status for _ in range(10)]
        assert statuses == [401] * 10
        clock.now += 15
        for headers in (WRONG, AUTH):
            refused = await client.get("/api/incidents", headers=headers)
            assert refused.status == 429
            assert refused.headers["Retry-After"] == "45"
            assert "too many wrong API tokens" in (await refused.json())["error"]

        clock.now += 45  # the first failures leave the window
        assert (await client.get("/api/incidents", headers=AUTH)).status == 200


async def test_wrong_tokens_from_one_address_do_not_slow_another(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """A guesser at 127.0.0.1 is throttled; a caller at 127.0.0.2 with the right token is served at once."""
    limiter = FailedTokenLimiter(limit=3, window_seconds=60)
    async with api_client(engine, example_directory, tmp_path, failed_tokens=limiter) as client:
        for _ in range(3):
            await client.get("/api/incidents", headers=WRONG)
        assert (await client.get("/api/incidents", headers=AUTH)).status == 429
        connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=connector) as other:
            response = await other.get(client.make_url("/api/incidents"), headers=AUTH)
            assert response.status == 200


async def test_missing_token_is_not_counted_as_a_guess(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """Requests that carry no Authorization header at all are 401 but never throttle the address."""
    limiter = FailedTokenLimiter(limit=3, window_seconds=60)
    async with api_client(engine, example_directory, tmp_path, failed_tokens=limiter) as client:
        assert {(await client.get("/api/incidents")).status for _ in range(5)} == {401}
        assert (await client.get("/api/incidents", headers=AUTH)).status == 200


async def test_audit_records_the_credential_not_the_x_actor_header(
    client: TestClient, engine: AsyncEngine
) -> None:
    """A caller claiming `X-Actor: practice.manager` is recorded as the token it used, from its address."""
    response = await client.post("/api/incidents", json=OPEN, headers={**AUTH, "X-Actor": "practice.manager"})
    assert response.status == 201
    async with engine.connect() as conn:
        rows = (await conn.execute(select(audit_events.c.actor, audit_events.c.origin))).all()
    assert [tuple(r) for r in rows] == [("api-token", "api 127.0.0.1")]
    detail = await (await client.get("/api/incidents/INC-1", headers=AUTH)).json()
    assert detail["updates"][0]["author"] == "api-token"
