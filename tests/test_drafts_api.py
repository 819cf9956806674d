"""The draft policy over real HTTP: an alert labelled `policy=draft` writes its incident, update or
resolve held; nothing reaches a channel or a public page until a person confirms it with
POST /api/incidents/{ref}/confirm, and a discarded draft is never sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.directory.practices import Directory
from broadcaster.incidents.queries import IncidentQueries
from tests.accounts_helpers import bearer, make_token
from tests.api_server import AUTH, api_client
from tests.polling import eventually
from tests.test_monitor_hooks import alertmanager, hook, incidents, outcomes, updates_of, uptime_kuma

DRAFT = {"policy": "draft"}


def delivered(tmp_path: Path) -> list[Path]:
    """What reached the example practices' outbox channel (one file per message sent)."""
    return sorted(p for p in (tmp_path / "outbox").rglob("*") if p.is_file())


async def decide(
    client: TestClient, ref: str, decision: str, headers: dict[str, str] = AUTH, **body: Any
) -> tuple[int, Any]:
    async with client.post(f"/api/incidents/{ref}/{decision}", json=body, headers=headers) as reply:
        return reply.status, await reply.json()


async def quiet_for_a_dispatch(client: TestClient) -> None:
    """Long enough for the running dispatcher to have sent anything due (it is woken on each write)."""
    await asyncio.sleep(1.0)


async def test_a_drafted_incident_sends_nothing_until_confirmed(
    client: TestClient, monitor: dict[str, str], tmp_path: Path
) -> None:
    """Firing with the draft policy: DRAFT in the list, held deliveries, nothing in any channel;
    repeats change nothing; confirm sends it once."""
    firing = alertmanager("firing", **DRAFT)
    assert outcomes((await hook(client, "alertmanager", firing, monitor))[1]) == [("drafted", "INC-1")]
    assert outcomes((await hook(client, "alertmanager", firing, monitor))[1]) == [("unchanged", "INC-1")]
    (listed,) = await incidents(client)
    assert (listed["status"], listed["draft"]) == ("investigating", "opening")
    (opening,) = await updates_of(client, "INC-1")
    assert opening["draft"] == "waiting"
    assert set(opening["deliveries"]) == {"held"}
    await quiet_for_a_dispatch(client)
    assert delivered(tmp_path) == []

    status, body = await decide(client, "INC-1", "confirm", seq=0)
    assert (status, body["ref"], body["seq"]) == (201, "INC-1", 0)
    held = sum(opening["deliveries"].values())
    assert body["deliveries"] == held
    await eventually(lambda: len(delivered(tmp_path)) == held)
    (listed,) = await incidents(client)
    assert listed["draft"] is None
    (opening,) = await updates_of(client, "INC-1")
    assert (opening["draft"], opening["decided_by"]) == ("confirmed", "api-token")
    assert (await decide(client, "INC-1", "confirm"))[0] == 409  # nothing waits any more
    await quiet_for_a_dispatch(client)
    assert len(delivered(tmp_path)) == held  # sent once


async def test_a_resolved_alert_drafts_the_resolve_and_confirm_sends_it(
    client: TestClient, monitor: dict[str, str], tmp_path: Path
) -> None:
    """The incident stays open with a resolve waiting; confirmed, it is resolved in the same thread."""
    await hook(client, "alertmanager", alertmanager("firing", **DRAFT), monitor)
    opening = (await decide(client, "INC-1", "confirm"))[1]["deliveries"]
    resolved = alertmanager("resolved", **DRAFT)
    assert outcomes((await hook(client, "alertmanager", resolved, monitor))[1]) == [("drafted", "INC-1")]
    assert outcomes((await hook(client, "alertmanager", resolved, monitor))[1]) == [("unchanged", "INC-1")]
    (listed,) = await incidents(client)
    assert (listed["status"], listed["draft"]) == ("investigating", "update")
    await eventually(lambda: len(delivered(tmp_path)) == opening)
    await quiet_for_a_dispatch(client)
    assert len(delivered(tmp_path)) == opening  # the resolve is held

    status, body = await decide(client, "INC-1", "confirm", seq=1)
    assert (status, body["deliveries"]) == (201, opening)  # every thread of the opening
    (listed,) = await incidents(client)
    assert (listed["status"], listed["draft"]) == ("resolved", None)
    await eventually(lambda: len(delivered(tmp_path)) == 2 * opening)
    # The cause ended with the confirmed resolve: a repeat of the resolved alert finds nothing open.
    assert outcomes((await hook(client, "alertmanager", resolved, monitor))[1]) == [("nothing open", None)]


async def test_recovery_before_anyone_confirms_discards_the_draft_and_nothing_is_ever_sent(
    client: TestClient, monitor: dict[str, str], tmp_path: Path
) -> None:
    """Nobody was told, so nobody needs telling: the incident closes, never sent, never public."""
    query = "?runbook=website-down&policy=draft"
    await hook(client, "uptime-kuma", uptime_kuma(0), monitor, query)
    assert outcomes((await hook(client, "uptime-kuma", uptime_kuma(1), monitor, query))[1]) == [
        ("draft discarded", "INC-1")
    ]
    (listed,) = await incidents(client)
    assert (listed["status"], listed["draft"]) == ("resolved", "discarded")
    (opening,) = await updates_of(client, "INC-1")
    assert (opening["draft"], set(opening["deliveries"])) == ("discarded", {"discarded"})
    assert (await decide(client, "INC-1", "confirm"))[0] == 409
    async with client.post("/api/incidents/INC-1/reopen", json={"message": "Back."}, headers=AUTH) as r:
        assert r.status == 409
        assert "never sent" in (await r.json())["error"]
    await quiet_for_a_dispatch(client)
    assert delivered(tmp_path) == []


async def test_the_problem_back_while_a_resolve_waits_discards_the_resolve(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """Firing again before anyone confirmed the resolve: the resolve is dropped, the incident stays open."""
    await hook(client, "alertmanager", alertmanager("firing", **DRAFT), monitor)
    await decide(client, "INC-1", "confirm")
    await hook(client, "alertmanager", alertmanager("resolved", **DRAFT), monitor)
    again = alertmanager("firing", **DRAFT)
    assert outcomes((await hook(client, "alertmanager", again, monitor))[1]) == [("draft discarded", "INC-1")]
    (listed,) = await incidents(client)
    assert (listed["status"], listed["draft"]) == ("investigating", None)
    assert [u["draft"] for u in await updates_of(client, "INC-1")] == ["confirmed", "discarded"]


async def test_a_person_discards_a_draft(client: TestClient, monitor: dict[str, str], tmp_path: Path) -> None:
    """Discarding the opening ends the incident unsent; the alert's repeats open nothing more."""
    firing = alertmanager("firing", **DRAFT)
    await hook(client, "alertmanager", firing, monitor)
    status, body = await decide(client, "INC-1", "discard")
    assert (status, body["seq"]) == (200, 0)
    assert body["discarded"] == 8  # X99001's and X99002's Page, texts and emails
    assert outcomes((await hook(client, "alertmanager", firing, monitor))[1]) == [("unchanged", "INC-1")]
    assert (await incidents(client))[0]["draft"] == "discarded"
    await quiet_for_a_dispatch(client)
    assert delivered(tmp_path) == []


async def test_a_stale_decision_is_refused(client: TestClient, monitor: dict[str, str]) -> None:
    """A person confirms what they read: a different update number is a 409 and changes nothing."""
    await hook(client, "alertmanager", alertmanager("firing", **DRAFT), monitor)
    status, body = await decide(client, "INC-1", "confirm", seq=1)
    assert status == 409
    assert "waiting draft is update 0, not 1" in body["error"]
    assert (await incidents(client))[0]["draft"] == "opening"
    assert (await decide(client, "INC-9", "confirm"))[0] == 404
    async with client.post("/api/incidents/INC-1/confirm", json={"seq": "one"}, headers=AUTH) as reply:
        assert reply.status == 400


async def test_no_update_is_written_past_a_waiting_draft(client: TestClient, monitor: dict[str, str]) -> None:
    """A person's update while a draft waits is a 409 saying how to decide it first."""
    await hook(client, "alertmanager", alertmanager("firing", **DRAFT), monitor)
    body = {"status": "identified", "message": "Found it."}
    async with client.post("/api/incidents/INC-1/updates", json=body, headers=AUTH) as reply:
        assert reply.status == 409
        assert "POST /api/incidents/INC-1/confirm" in (await reply.json())["error"]
    assert len(await updates_of(client, "INC-1")) == 1


async def test_a_draft_is_never_public(client: TestClient, monitor: dict[str, str]) -> None:
    """Status pages, feeds, banner and CAP show nothing of it until it is confirmed."""
    await hook(client, "alertmanager", alertmanager("firing", **DRAFT), monitor)
    for path in ("/status", "/status/X99001", "/status/feed.atom", "/banner/X99001.json"):
        async with client.get(path) as reply:
            assert "Online booking" not in await reply.text(), path
    async with client.get("/cap/INC-1.xml") as reply:
        assert reply.status == 404
    await decide(client, "INC-1", "confirm")
    async with client.get("/status/X99001") as reply:
        assert "online booking" in (await reply.text()).lower()


async def test_who_may_decide_a_draft(
    client: TestClient, engine: AsyncEngine, monitor: dict[str, str]
) -> None:
    """Not the monitor that raised it, nor a practice for an incident reaching another; a
    commissioner may."""
    await hook(client, "alertmanager", alertmanager("firing", **DRAFT), monitor)
    assert (await decide(client, "INC-1", "confirm", monitor))[0] == 403
    practice = bearer(await make_token(engine, "riverside", Role.PRACTICE, ("X99001",)))
    status, body = await decide(client, "INC-1", "confirm", practice)
    assert status == 403
    assert "reaches practices besides X99001" in body["error"]
    commissioner = bearer(await make_token(engine, "icb-comms", Role.COMMISSIONER))
    assert (await decide(client, "INC-1", "confirm", commissioner))[0] == 201


async def test_an_unknown_policy_is_refused_and_nothing_opens(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """422 naming the value and the two policies."""
    status, body = await hook(client, "alertmanager", alertmanager("firing", policy="later"), monitor)
    assert status == 422
    assert "'later'" in body["error"]
    assert "`draft`" in body["error"]
    assert await incidents(client) == []


async def test_the_generic_form_asks_for_a_draft(client: TestClient, monitor: dict[str, str]) -> None:
    """`"policy": "draft"` in the generic body; its resolve, with the body's wording, is drafted too."""
    firing = {"key": "phones", "status": "firing", "ods": ["X99002"], "runbook": "phone-lines-down"}
    assert outcomes((await hook(client, "generic", {**firing, "policy": "draft"}, monitor))[1]) == [
        ("drafted", "INC-1")
    ]
    await decide(client, "INC-1", "confirm")
    resolved = {"key": "phones", "status": "resolved", "policy": "draft", "message": "Phones work again."}
    assert outcomes((await hook(client, "generic", resolved, monitor))[1]) == [("drafted", "INC-1")]
    assert (await updates_of(client, "INC-1"))[1]["message"] == "Phones work again."


async def test_the_policy_setting_makes_every_alert_a_draft(
    engine: AsyncEngine,
    example_directory: Directory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    monitor: dict[str, str],
) -> None:
    """BROADCASTER_MONITOR__POLICY=draft: an alert without a policy is drafted; one saying open is sent."""
    monkeypatch.setenv("BROADCASTER_MONITOR__POLICY", "draft")
    async with api_client(engine, example_directory, tmp_path) as client:
        assert outcomes((await hook(client, "alertmanager", alertmanager("firing"), monitor))[1]) == [
            ("drafted", "INC-1")
        ]
        other = alertmanager("firing", policy="open", cause="other-supplier")
        assert outcomes((await hook(client, "alertmanager", other, monitor))[1]) == [("opened", "INC-2")]


@pytest.mark.parametrize(
    ("decision", "services"),
    [("confirm", "online booking and repeat prescriptions"), ("discard", "online booking")],
)
async def test_a_drafted_updates_fields_reach_the_incident_only_when_confirmed(
    client: TestClient, monitor: dict[str, str], engine: AsyncEngine, decision: str, services: str
) -> None:
    """A changed alert drafts an update with new runbook values: the incident (whose later
    messages are rendered from them) takes them on confirm, and keeps its own on discard."""
    await hook(client, "alertmanager", alertmanager("firing", **DRAFT), monitor)
    await decide(client, "INC-1", "confirm")
    changed = alertmanager("firing", services="online booking and repeat prescriptions", **DRAFT)
    assert outcomes((await hook(client, "alertmanager", changed, monitor))[1]) == [("drafted", "INC-1")]
    assert (await IncidentQueries(engine).incident(1)).summary.fields["services"] == "online booking"
    assert (await decide(client, "INC-1", decision, seq=1))[0] in (200, 201)
    assert (await IncidentQueries(engine).incident(1)).summary.fields["services"] == services
