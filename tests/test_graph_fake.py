"""The Graph API fake itself answers as Meta documents: shapes, token errors, throttle headers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.fakes.faults import Fault, FaultPlan
from tests.fakes.graph_api import GraphFake

PAGE = "2000002"
TOKEN = "page-token-2000002"
Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]


@pytest.fixture
def fake() -> GraphFake:
    graph = GraphFake(plan=FaultPlan(throttle_hint_seconds=30.0))
    graph.add_page(PAGE, TOKEN)
    return graph


@pytest.fixture
async def client(aiohttp_client: MakeClient, fake: GraphFake) -> Client:
    return await aiohttp_client(fake.app())


async def test_wrong_token_gets_oauth_exception_190_at_http_400(client: Client) -> None:
    """A wrong page token is refused with Graph's 190 OAuthException body."""
    response = await client.post(f"/v26.0/{PAGE}/feed", data={"message": "x", "access_token": "no"})
    body = await response.json()
    assert response.status == 400
    assert body["error"]["code"] == 190
    assert body["error"]["type"] == "OAuthException"
    assert "fbtrace_id" in body["error"]


async def test_other_api_version_is_refused(client: Client, fake: GraphFake) -> None:
    """Requests under another version prefix are errors and write nothing."""
    response = await client.post(f"/v19.0/{PAGE}/feed", data={"message": "x", "access_token": TOKEN})
    assert response.status == 400
    assert fake.writes == []


async def test_feed_lists_newest_first_with_requested_fields(client: Client) -> None:
    """The feed answers `data` newest first, only the asked-for fields, and `paging` cursors."""
    for text in ("first", "second", "third"):
        await client.post(f"/v26.0/{PAGE}/feed", data={"message": text, "access_token": TOKEN})
    response = await client.get(
        f"/v26.0/{PAGE}/feed",
        params={"fields": "id,message", "limit": "2"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    body = await response.json()
    assert [item["message"] for item in body["data"]] == ["third", "second"]
    assert set(body["data"][0]) == {"id", "message"}
    assert "cursors" in body["paging"]
    assert "X-App-Usage" in response.headers


async def test_edit_then_comments_are_recorded_in_order(client: Client, fake: GraphFake) -> None:
    """An edit answers success, comments answer ids, and every write is recorded in order."""
    created = await client.post(f"/v26.0/{PAGE}/feed", data={"message": "a", "access_token": TOKEN})
    post_id = (await created.json())["id"]
    edited = await client.post(f"/v26.0/{post_id}", data={"message": "b", "access_token": TOKEN})
    for text in ("c1", "c2"):
        path = f"/v26.0/{post_id}/comments"
        await client.post(path, data={"message": text, "access_token": TOKEN})
    assert await edited.json() == {"success": True}
    assert post_id.startswith(f"{PAGE}_")
    assert [(w.kind, w.message) for w in fake.writes] == [
        ("post", "a"),
        ("edit", "b"),
        ("comment", "c1"),
        ("comment", "c2"),
    ]


async def test_throttle_fault_carries_the_hint_in_fractional_minutes(client: Client, fake: GraphFake) -> None:
    """A throttle answers code 80001 and a BUC header estimating hint/60 minutes for the page."""
    fake.plan.script(f"feed:{PAGE}", Fault.THROTTLE)
    response = await client.post(f"/v26.0/{PAGE}/feed", data={"message": "x", "access_token": TOKEN})
    usage = json.loads(response.headers["X-Business-Use-Case-Usage"])
    assert response.status == 400
    assert (await response.json())["error"]["code"] == 80001
    assert usage[PAGE][0]["estimated_time_to_regain_access"] == 0.5
    assert fake.writes == []


async def test_act_then_error_writes_and_answers_code_1(client: Client, fake: GraphFake) -> None:
    """The duplicate hazard: the post exists although Graph answered code 1 with HTTP 500."""
    fake.plan.script(f"feed:{PAGE}", Fault.ACT_THEN_ERROR)
    response = await client.post(f"/v26.0/{PAGE}/feed", data={"message": "x", "access_token": TOKEN})
    assert response.status == 500
    assert (await response.json())["error"]["code"] == 1
    assert len(fake.posts_on(PAGE)) == 1
