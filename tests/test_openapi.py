"""`/openapi.json` describes exactly the routes the app serves, and the app answers as described."""

from __future__ import annotations

from typing import Any

import jsonschema
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from broadcaster.public.routes import PUBLIC_ROUTES
from broadcaster.web.openapi import OPERATIONS
from tests.api_server import AUTH, OPEN


async def document(client: TestClient) -> dict[str, Any]:
    async with client.get("/openapi.json") as reply:  # no token: the description is public
        assert reply.status == 200
        found: dict[str, Any] = await reply.json()
        return found


async def test_the_document_is_valid_openapi(client: TestClient) -> None:
    validate(await document(client))  # raises with the first problem


async def test_every_route_served_is_described_and_nothing_else(client: TestClient) -> None:
    """All but the public copy's files (status pages, feeds, CAP, banner: see public/routes.py)."""
    served = {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and route.resource.canonical not in PUBLIC_ROUTES
    }
    described = {
        (method.upper(), path) for path, ops in (await document(client))["paths"].items() for method in ops
    }
    assert served == described == set(OPERATIONS)


# What a caller does, in order, and the route it goes to: each answer must be one the document
# lists for that route, in the shape it gives.
SCRIPT: list[tuple[str, str, str, dict[str, Any] | bytes | None, dict[str, str]]] = [
    ("GET", "/healthz", "/healthz", None, {}),
    ("GET", "/readyz", "/readyz", None, {}),
    ("POST", "/api/incidents", "/api/incidents", OPEN, {}),  # no token
    ("POST", "/api/incidents", "/api/incidents", b"{not json", AUTH),
    ("POST", "/api/incidents", "/api/incidents", {**OPEN, "audience": {"ods": ["Z1"]}}, AUTH),
    ("POST", "/api/incidents", "/api/incidents", OPEN, AUTH),
    ("GET", "/api/incidents", "/api/incidents", None, AUTH),
    ("GET", "/api/incidents/INC-1", "/api/incidents/{ref}", None, AUTH),
    ("GET", "/api/incidents/INC-99", "/api/incidents/{ref}", None, AUTH),
    ("POST", "/api/incidents/INC-1/reopen", "/api/incidents/{ref}/reopen", {"message": "Back."}, AUTH),
    ("POST", "/api/incidents/INC-1/updates", "/api/incidents/{ref}/updates", {"status": "nope"}, AUTH),
    (
        "POST",
        "/api/incidents/INC-1/updates",
        "/api/incidents/{ref}/updates",
        {"status": "resolved", "message": "Fixed."},
        AUTH,
    ),
    (
        "POST",
        "/api/incidents/INC-1/updates",
        "/api/incidents/{ref}/updates",
        {"status": "monitoring", "message": "Hm."},
        AUTH,
    ),
    ("POST", "/api/incidents/INC-1/reopen", "/api/incidents/{ref}/reopen", {"message": "Down again."}, AUTH),
]


async def test_each_answer_is_one_the_document_describes(client: TestClient) -> None:
    doc = await document(client)
    seen: set[tuple[str, int]] = set()
    for method, url, path, body, headers in SCRIPT:
        kwargs: dict[str, Any] = {"headers": headers}
        if isinstance(body, bytes):
            kwargs["data"] = body
        elif body is not None:
            kwargs["json"] = body
        async with client.request(method, url, **kwargs) as reply:
            described = doc["paths"][path][method.lower()]["responses"]
            assert str(reply.status) in described, f"{method} {url} answered {reply.status}, not described"
            schema = described[str(reply.status)]["content"]["application/json"]["schema"]
            checked = {**schema, "components": doc["components"]}  # so "#/components/..." resolves
            jsonschema.Draft202012Validator(checked).validate(await reply.json())
            seen.add((path, reply.status))
    # The script reached the answers that matter, not only the happy path.
    assert {("/api/incidents", s) for s in (201, 400, 401, 422)} <= seen
    assert {("/api/incidents/{ref}/reopen", s) for s in (201, 409)} <= seen
    assert ("/api/incidents/{ref}", 404) in seen
