"""The console's JSON routes and its live grid stream, through real HTTP: every role against each
route, a practice account's scope, the stream's refusals before it starts, and the
confidentiality check's verdict, refusal without a reason and audited override."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.config.settings import Settings
from broadcaster.directory.practices import Directory, load_directory
from tests.accounts_helpers import KEYS, bearer, make_token
from tests.api_server import AUTH, TOKEN, api_client
from tests.fakes.graph_api import GraphFake
from tests.polling import eventually_async

# Two practices; each page's Facebook token is one the Graph fake refuses, so every Facebook
# delivery fails for good and there is always a failed cell to retry. Texts and email go to files.
DIRECTORY = """\
defaults: {sms_provider: outbox, email_provider: outbox}
practices:
  - ods: X99001
    name: Riverside Surgery
    groups: [north-pcn]
    placeholders: {alt_phone: '0113 496 0001', website: 'riverside.example'}
    facebook: {page_id: '100000000990001', token: fb_x99001}
    sms: {recipients: ['07700 900001']}
    email: {recipients: [manager@riverside.example]}
  - ods: X99002
    name: Oak Lane Medical Centre
    groups: [north-pcn]
    placeholders: {alt_phone: '0113 496 0002', website: 'oaklane.example'}
    facebook: {page_id: '100000000990002', token: fb_x99002}
    sms: {recipients: ['07700 900003']}
    email: {recipients: [manager@oaklane.example]}
"""
ONLY_X99002 = {"title": "Phones down", "message": "Call {alt_phone}.", "audience": {"ods": ["X99002"]}}
BOTH = {"title": "Website down", "message": "Use NHS 111 online.", "audience": {"ods": ["X99001", "X99002"]}}
NHS_NUMBER = "Mrs Jones, NHS number 943 476 5919, please call the surgery."
RETRY_X99002 = {"practice": "X99002", "channel": "facebook"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: dict[str, Any] | None = None
    allowed_status: int = 200


# Each console-era route, acted on INC-1 (which reaches X99002 only, the practice role's practice).
ROUTES = {
    "preview an opening": Route("POST", "/api/incidents/preview", ONLY_X99002),
    "preview an update": Route(
        "POST", "/api/incidents/INC-1/updates/preview", {"status": "identified", "message": "Found it."}
    ),
    "retry a failed cell": Route("POST", "/api/incidents/INC-1/retry", RETRY_X99002, 202),
    "list runbooks": Route("GET", "/api/runbooks"),
    "list practices": Route("GET", "/api/practices"),
    "list users": Route("GET", "/api/users"),
    "read the delivery grid": Route("GET", "/api/incidents/INC-1/deliveries"),
    "follow the live grid": Route("GET", "/incidents/INC-1/events"),
}
INCIDENT_WORK = set(ROUTES) - {"list users"}
ALLOWED = {
    "admin": set(ROUTES),
    "commissioner": INCIDENT_WORK,
    "practice": INCIDENT_WORK,
    "monitor": set(),
    "no credential": set(),
}
PAIRS = [(who, route) for who in ALLOWED for route in ROUTES]


@pytest.fixture
async def directory(tmp_path: Path) -> Directory:
    (tmp_path / "practices.yaml").write_text(DIRECTORY, encoding="utf-8")
    return load_directory(tmp_path / "practices.yaml")


@pytest.fixture
async def client(
    engine: AsyncEngine, directory: Directory, tmp_path: Path, aiohttp_server: Any
) -> AsyncIterator[TestClient]:
    """The app with INC-1 (X99002) and INC-2 (X99001 and X99002) opened and settled."""
    graph = GraphFake()
    for page in ("100000000990001", "100000000990002"):
        graph.add_page(page, "a-token-the-test-does-not-give")
    graph_server: TestServer = await aiohttp_server(graph.app())
    settings = Settings(
        outbox_dir=tmp_path / "outbox",
        api_token=SecretStr(TOKEN),
        graph={"base_url": str(graph_server.make_url("")).rstrip("/")},
        secrets={"fb_x99001": SecretStr("refused-1"), "fb_x99002": SecretStr("refused-2")},
    )
    async with api_client(engine, directory, tmp_path, keys=KEYS, settings=settings) as client:
        for body in (ONLY_X99002, BOTH):
            assert (await client.post("/api/incidents", json=body, headers=AUTH)).status == 201
        for ref in ("INC-1", "INC-2"):
            await eventually_async(lambda ref=ref: settled(client, ref))
        yield client


async def settled(client: TestClient, ref: str) -> bool:
    grid = await (await client.get(f"/api/incidents/{ref}/deliveries", headers=AUTH)).json()
    return all(d["state"] in {"delivered", "failed"} for d in grid["deliveries"])


async def headers_for(engine: AsyncEngine, who: str, ods: str = "X99002") -> dict[str, str]:
    if who == "no credential":
        return {}
    role = Role(who)
    return bearer(
        await make_token(engine, f"{who}-{ods.lower()}", role, (ods,) if role is Role.PRACTICE else ())
    )


@pytest.mark.parametrize(("who", "route"), PAIRS, ids=[f"{w}: {r}" for w, r in PAIRS])
async def test_each_role_may_use_only_the_console_routes_its_role_allows(
    client: TestClient, engine: AsyncEngine, who: str, route: str
) -> None:
    """Allowed: its success status; refused: 403 naming the role needed, or 401 without a credential."""
    todo = ROUTES[route]
    headers = await headers_for(engine, who)

    response = await client.request(todo.method, todo.path, json=todo.body, headers=headers)

    text = await response.text()
    if route in ALLOWED[who]:
        assert response.status == todo.allowed_status, text
    elif who == "no credential":
        assert response.status == 401, text
        assert "sign in at /login" in text
    else:
        assert response.status == 403, text
        assert f"({who} role) may not" in text
        assert "that needs the role" in text
        assert "7700900" not in text


# --- a practice account's scope ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/incidents/INC-1/updates/preview", {"status": "identified", "message": "Found it."}),
        ("POST", "/api/incidents/INC-1/retry", RETRY_X99002),
        ("GET", "/api/incidents/INC-1/deliveries", None),
    ],
)
async def test_a_practice_account_is_refused_another_practices_incident(
    client: TestClient, engine: AsyncEngine, method: str, path: str, body: dict[str, str] | None
) -> None:
    """X99001's account may not preview an update to, retry in, or read the grid of INC-1 (X99002 only)."""
    x99001 = await headers_for(engine, "practice", "X99001")
    response = await client.request(method, path, json=body, headers=x99001)
    assert response.status == 403
    assert "INC-1 does not reach X99001" in (await response.json())["error"]
    assert "+447700900003" not in await response.text()


async def test_a_practice_account_may_not_retry_another_practices_cell_of_a_shared_incident(
    client: TestClient, engine: AsyncEngine
) -> None:
    """INC-2 reaches both practices: X99001 may retry its own failed Facebook cell, not X99002's."""
    x99001 = await headers_for(engine, "practice", "X99001")
    other = await client.post("/api/incidents/INC-2/retry", json=RETRY_X99002, headers=x99001)
    assert other.status == 403
    assert "may retry deliveries only for X99001" in (await other.json())["error"]

    own = await client.post(
        "/api/incidents/INC-2/retry", json={"practice": "X99001", "channel": "facebook"}, headers=x99001
    )
    assert own.status == 202
    assert (await own.json())["retried"] == 1


async def test_a_practice_account_may_not_preview_an_opening_for_another_practice(
    client: TestClient, engine: AsyncEngine
) -> None:
    """X99001 previewing a send to X99002 is refused, as the send itself would be."""
    x99001 = await headers_for(engine, "practice", "X99001")
    response = await client.post("/api/incidents/preview", json=ONLY_X99002, headers=x99001)
    assert response.status == 403
    assert "may open incidents only for X99001" in (await response.json())["error"]


async def test_a_practice_accounts_update_preview_holds_only_its_own_messages(
    client: TestClient, engine: AsyncEngine
) -> None:
    """X99001 previewing an update to INC-2 sees only X99001's messages and recipients."""
    x99001 = await headers_for(engine, "practice", "X99001")
    body = {"status": "identified", "message": "Found it.", "sms": True}
    preview = await (
        await client.post("/api/incidents/INC-2/updates/preview", json=body, headers=x99001)
    ).json()
    assert {m["practice"] for m in preview["messages"]} == {"X99001"}
    assert "+447700900003" not in json.dumps(preview)


async def test_the_practices_list_shows_recipients_only_of_practices_the_role_may_see(
    client: TestClient, engine: AsyncEngine
) -> None:
    """A commissioner sees every practice's numbers; X99001 only its own; a monitor nothing at all."""
    everyone = await (
        await client.get("/api/practices", headers=await headers_for(engine, "commissioner"))
    ).json()
    assert {p["ods"]: p["channels"]["sms"]["to"] for p in everyone} == {
        "X99001": ["+447700900001"],
        "X99002": ["+447700900003"],
    }

    own = await client.get("/api/practices", headers=await headers_for(engine, "practice", "X99001"))
    listed = await own.json()
    assert [p["ods"] for p in listed] == ["X99001"]
    assert listed[0]["channels"]["sms"] == {"recipients": 1, "to": ["+447700900001"]}
    assert "+447700900003" not in await own.text()

    monitor = await client.get("/api/practices", headers=await headers_for(engine, "monitor"))
    assert monitor.status == 403
    assert "7700900" not in await monitor.text()


# --- the live grid's stream ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "who", "refused"),
    [
        ("nope", "commissioner", (404, "INC-42")),
        ("INC-99", "commissioner", (404, "INC-99")),
        ("INC-1", "practice X99001", (403, "INC-1 does not reach X99001")),
    ],
    ids=["a bad ref", "an unknown incident", "another practice's incident"],
)
async def test_the_live_grid_is_refused_with_a_clear_status_before_it_streams(
    client: TestClient, engine: AsyncEngine, ref: str, who: str, refused: tuple[int, str]
) -> None:
    """A bad ref, an unknown incident or another practice's incident: a 4xx page saying why, no stream."""
    status, says = refused
    role, _, ods = who.partition(" ")
    headers = await headers_for(engine, role, ods or "X99002")
    response = await client.get(
        f"/incidents/{ref}/events", headers={**headers, "Accept": "text/event-stream"}
    )
    assert response.status == status
    assert not response.headers["Content-Type"].startswith("text/event-stream")
    text = await response.text()
    assert says in text
    assert "event: cells" not in text
    assert "7700900" not in text


async def test_the_live_grid_streams_a_practice_only_its_own_cells_then_ends(
    client: TestClient, engine: AsyncEngine
) -> None:
    """X99001 following INC-2 gets its own cells, with screen-reader labels, and `done` once settled."""
    x99001 = await headers_for(engine, "practice", "X99001")
    response = await client.get("/incidents/INC-2/events", headers=x99001)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    text = await response.text()
    cells = json.loads(text.split("event: cells\r\ndata: ", 1)[1].split("\r\n", 1)[0])["cells"]
    assert set(cells) == {"X99001:facebook", "X99001:sms", "X99001:email"}
    assert cells["X99001:sms"]["label"] == "Riverside Surgery, SMS: delivered"
    assert cells["X99001:facebook"]["label"] == "Riverside Surgery, Facebook: failed"
    assert "event: done" in text


# --- the confidentiality check ---------------------------------------------------------------


async def test_a_flagged_preview_shows_the_verdict_and_the_open_needs_a_typed_reason(
    client: TestClient, engine: AsyncEngine
) -> None:
    """An NHS number: the preview says "needs a reason"; no reason is 422, a reason 201 and audited."""
    comms = await headers_for(engine, "commissioner")
    body = {"title": "Call back", "message": NHS_NUMBER, "audience": {"ods": ["X99001"]}}

    preview = await client.post("/api/incidents/preview", json=body, headers=comms)
    assert preview.status == 200
    verdict = (await preview.json())["confidentiality"]
    assert verdict["verdict"] == "needs a reason"
    assert [f["kind"] for f in verdict["findings"]] == ["an NHS number"]
    assert "5919" not in json.dumps(verdict)

    refused = await client.post("/api/incidents", json=body, headers=comms)
    assert refused.status == 422
    assert "NHS number" in (await refused.json())["error"]
    assert "5919" not in await refused.text()

    reason = {**body, "confidentiality_override": "test patient in a drill"}
    overridden = await client.post("/api/incidents/preview", json=reason, headers=comms)
    assert (await overridden.json())["confidentiality"]["verdict"] == "overridden"
    opened = await client.post("/api/incidents", json=reason, headers=comms)
    assert opened.status == 201, await opened.text()

    audit = await (await client.get("/api/audit", headers=AUTH)).json()
    latest = audit["events"][0]
    assert latest["actor"] == "commissioner-x99002"
    assert latest["detail"]["confidentiality_override"] == "test patient in a drill"
    assert "5919" not in json.dumps(audit)


async def test_an_update_over_the_api_needs_a_typed_reason_for_flagged_content(
    client: TestClient, engine: AsyncEngine
) -> None:
    """An update naming a patient is 422 without a reason and 201 with one, the reason audited."""
    comms = await headers_for(engine, "commissioner")
    body = {"status": "identified", "message": NHS_NUMBER}
    refused = await client.post("/api/incidents/INC-1/updates", json=body, headers=comms)
    assert refused.status == 422
    assert "NHS number" in (await refused.json())["error"]

    reason = {**body, "confidentiality_override": "a drill with a test patient"}
    posted = await client.post("/api/incidents/INC-1/updates", json=reason, headers=comms)
    assert posted.status == 201, await posted.text()
    audit = await (await client.get("/api/audit", headers=AUTH)).json()
    assert audit["events"][0]["detail"]["confidentiality_override"] == "a drill with a test patient"
