"""The monitors' webhooks through real HTTP: Alertmanager, Uptime Kuma and the generic form open,
update and resolve incidents once per cause; repeats change nothing; only monitor (and admin)
tokens may call them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from tests.accounts_helpers import bearer, make_token
from tests.api_server import AUTH, OPEN

STARTS = "2026-12-02T07:00:00.000Z"


def alertmanager(
    status: str, *, services: str = "online booking", starts: str = STARTS, **labels: str
) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4) with one alert, as it posts it."""
    alert_labels = {
        "alertname": "BookingDown",
        "instance": "booking.example:443",
        "ods": "X99001,X99002",
        "runbook": "website-down",
        **labels,
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="BookingDown"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "broadcaster",
        "groupLabels": {"alertname": "BookingDown"},
        "commonLabels": alert_labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": status,
                "labels": alert_labels,
                "annotations": {"summary": "Online booking is down", "services": services},
                "startsAt": starts,
                "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-02T07:30:00.000Z",
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=probe_success",
                "fingerprint": "6c1f0e2ab3d4f5a6",
            }
        ],
    }


def uptime_kuma(status: int) -> dict[str, Any]:
    """Uptime Kuma's webhook body (application/json) for a down (0) or up (1) heartbeat."""
    return {
        "heartbeat": {
            "monitorID": 7,
            "status": status,
            "time": "2026-12-02 07:00:00.000",
            "msg": "connect ECONNREFUSED" if status == 0 else "200 - OK",
            "important": True,
            "duration": 60,
        },
        "monitor": {
            "id": 7,
            "name": "Oak Lane website",
            "url": "https://oaklane-medical.example",
            "type": "http",
            "interval": 60,
            "tags": [{"name": "ods", "value": "X99002"}, {"name": "services", "value": "our website"}],
        },
        "msg": "[Oak Lane website] [🔴 Down] connect ECONNREFUSED"
        if status == 0
        else "[Oak Lane website] [✅ Up] 200 - OK",
    }


async def hook(
    client: TestClient, source: str, body: object, headers: dict[str, str], query: str = ""
) -> tuple[int, Any]:
    async with client.post(f"/api/hooks/{source}{query}", json=body, headers=headers) as reply:
        return reply.status, await reply.json()


async def incidents(client: TestClient) -> list[dict[str, Any]]:
    async with client.get("/api/incidents", headers=AUTH) as reply:
        found: list[dict[str, Any]] = await reply.json()
        return found


async def updates_of(client: TestClient, ref: str) -> list[dict[str, Any]]:
    async with client.get(f"/api/incidents/{ref}", headers=AUTH) as reply:
        found: list[dict[str, Any]] = (await reply.json())["updates"]
        return found


def outcomes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["outcome"], r["incident"]) for r in body["results"]]


async def test_a_firing_alertmanager_alert_opens_one_incident_from_its_runbook(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """The alert's labels choose the practices and runbook; the annotation fills its field."""
    status, body = await hook(client, "alertmanager", alertmanager("firing"), monitor)
    assert (status, outcomes(body)) == (200, [("opened", "INC-1")])
    (found,) = await incidents(client)
    assert found["title"] == "Online booking is down"
    assert found["audience"] == "X99001, X99002"
    (opening,) = await updates_of(client, "INC-1")
    assert "online booking" in opening["message"]
    assert opening["author"] == "prometheus"


async def test_repeated_firing_deliveries_change_nothing(client: TestClient, monitor: dict[str, str]) -> None:
    """Alertmanager re-sends a firing alert every repeat_interval: no second incident or update."""
    await hook(client, "alertmanager", alertmanager("firing"), monitor)
    for _ in range(3):
        status, body = await hook(client, "alertmanager", alertmanager("firing"), monitor)
        assert (status, outcomes(body)) == (200, [("unchanged", "INC-1")])
    assert len(await incidents(client)) == 1
    assert len(await updates_of(client, "INC-1")) == 1


async def test_two_deliveries_at_once_open_one_incident(client: TestClient, monitor: dict[str, str]) -> None:
    """Two Alertmanager replicas sending the same alert at the same moment: one incident."""
    replies = await asyncio.gather(
        *(hook(client, "alertmanager", alertmanager("firing"), monitor) for _ in range(4))
    )
    assert sorted(o for _, body in replies for o, _ in outcomes(body)) == [
        "opened",
        "unchanged",
        "unchanged",
        "unchanged",
    ]
    assert len(await incidents(client)) == 1


async def test_a_changed_alert_posts_one_update(client: TestClient, monitor: dict[str, str]) -> None:
    """What the alert says changed (more services down): one update in the thread, then quiet."""
    await hook(client, "alertmanager", alertmanager("firing"), monitor)
    changed = alertmanager("firing", services="online booking and repeat prescriptions")
    assert outcomes((await hook(client, "alertmanager", changed, monitor))[1]) == [("updated", "INC-1")]
    assert outcomes((await hook(client, "alertmanager", changed, monitor))[1]) == [("unchanged", "INC-1")]
    updates = await updates_of(client, "INC-1")
    assert [u["status"] for u in updates] == ["investigating", "investigating"]
    assert "repeat prescriptions" in updates[1]["message"]


async def test_a_resolved_alert_resolves_it_and_repeats_change_nothing(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """Resolved once; a repeated resolved, and a late repeat of the same firing, do nothing."""
    await hook(client, "alertmanager", alertmanager("firing"), monitor)
    assert outcomes((await hook(client, "alertmanager", alertmanager("resolved"), monitor))[1]) == [
        ("resolved", "INC-1")
    ]
    assert outcomes((await hook(client, "alertmanager", alertmanager("resolved"), monitor))[1]) == [
        ("nothing open", None)
    ]
    assert outcomes((await hook(client, "alertmanager", alertmanager("firing"), monitor))[1]) == [
        ("unchanged", "INC-1")
    ]
    (found,) = await incidents(client)
    assert found["status"] == "resolved"
    assert [u["status"] for u in await updates_of(client, "INC-1")] == ["investigating", "resolved"]


async def test_the_same_alert_firing_again_later_opens_a_new_incident(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """A new episode (a later startsAt) after the resolve is a new outage."""
    await hook(client, "alertmanager", alertmanager("firing"), monitor)
    await hook(client, "alertmanager", alertmanager("resolved"), monitor)
    again = alertmanager("firing", starts="2026-12-02T09:00:00.000Z")
    assert outcomes((await hook(client, "alertmanager", again, monitor))[1]) == [("opened", "INC-2")]


async def test_an_incident_resolved_by_a_person_is_left_alone_while_the_alert_fires(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """The comms officer's resolve stands: the monitor's repeats send nothing."""
    await hook(client, "alertmanager", alertmanager("firing"), monitor)
    async with client.post(
        "/api/incidents/INC-1/updates", json={"status": "resolved", "message": "Fixed."}, headers=AUTH
    ) as r:
        assert r.status == 201
    changed = alertmanager("firing", services="everything")
    assert outcomes((await hook(client, "alertmanager", changed, monitor))[1]) == [("unchanged", "INC-1")]
    assert outcomes((await hook(client, "alertmanager", alertmanager("resolved"), monitor))[1]) == [
        ("unchanged", "INC-1")
    ]
    assert len(await updates_of(client, "INC-1")) == 2


async def test_uptime_kuma_down_opens_and_up_resolves(client: TestClient, monitor: dict[str, str]) -> None:
    """The monitor's tags give the practice and the runbook's field; the runbook is in the URL."""
    query = "?runbook=website-down"
    assert outcomes((await hook(client, "uptime-kuma", uptime_kuma(0), monitor, query))[1]) == [
        ("opened", "INC-1")
    ]
    assert outcomes((await hook(client, "uptime-kuma", uptime_kuma(0), monitor, query))[1]) == [
        ("unchanged", "INC-1")
    ]
    assert outcomes((await hook(client, "uptime-kuma", uptime_kuma(1), monitor, query))[1]) == [
        ("resolved", "INC-1")
    ]
    (found,) = await incidents(client)
    assert (found["audience"], found["status"]) == ("X99002", "resolved")
    assert "our website" in (await updates_of(client, "INC-1"))[0]["message"]


async def test_uptime_kumas_test_button_does_nothing(client: TestClient, monitor: dict[str, str]) -> None:
    """Its test notification has no heartbeat or monitor: 200, no results, no incident."""
    body = {"heartbeat": None, "monitor": None, "msg": "Uptime Kuma Testing"}
    assert await hook(client, "uptime-kuma", body, monitor) == (200, {"results": []})
    assert await incidents(client) == []


async def test_the_generic_form_opens_and_resolves_with_free_text(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """key, status, group, title and message: the whole of it."""
    firing = {
        "key": "telephony-north",
        "status": "firing",
        "group": "north-pcn",
        "title": "Phone lines down",
        "message": "Our phone lines are down. Call {alt_phone} or use NHS 111 online.",
    }
    assert outcomes((await hook(client, "generic", firing, monitor))[1]) == [("opened", "INC-1")]
    resolved = {"key": "telephony-north", "status": "resolved", "message": "Our phone lines work again."}
    assert outcomes((await hook(client, "generic", resolved, monitor))[1]) == [("resolved", "INC-1")]
    updates = await updates_of(client, "INC-1")
    assert updates[1]["message"] == "Our phone lines work again."
    assert (await incidents(client))[0]["audience"] == "group north-pcn"


async def test_an_alert_naming_no_practice_is_refused_and_nothing_opens(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """422 saying which labels to add; no incident."""
    body = {"key": "k", "status": "firing", "title": "T", "message": "Our website is down."}
    status, reply = await hook(client, "generic", body, monitor)
    assert status == 422
    assert "names no practice" in reply["error"]
    assert "`ods` label" in reply["error"]
    assert await incidents(client) == []


async def test_an_unknown_practice_or_runbook_is_refused(client: TestClient, monitor: dict[str, str]) -> None:
    """Mapping errors are a 422 naming the value; the cause is not left claimed."""
    status, reply = await hook(client, "alertmanager", alertmanager("firing", ods="Z99999"), monitor)
    assert status == 422
    assert "Z99999" in reply["error"]
    status, reply = await hook(client, "alertmanager", alertmanager("firing", runbook="nope"), monitor)
    assert status == 422
    assert "'nope'" in reply["error"]
    assert outcomes((await hook(client, "alertmanager", alertmanager("firing"), monitor))[1]) == [
        ("opened", "INC-1")
    ]


async def test_a_body_that_is_not_the_payload_is_a_400(client: TestClient, monitor: dict[str, str]) -> None:
    """An Alertmanager body without alerts, a generic one with an unknown field."""
    assert (await hook(client, "alertmanager", {"status": "firing"}, monitor))[0] == 400
    assert (await hook(client, "generic", {"key": "k", "status": "firing", "colour": "red"}, monitor))[
        0
    ] == 400


async def test_a_wrong_token_is_refused(client: TestClient) -> None:
    """401, nothing opened."""
    assert (await hook(client, "alertmanager", alertmanager("firing"), bearer("wrong")))[0] == 401
    assert (await hook(client, "generic", {"key": "k", "status": "firing"}, {}))[0] == 401
    assert await incidents(client) == []


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.PRACTICE])
async def test_other_roles_may_not_call_the_hooks(
    client: TestClient, engine: AsyncEngine, role: Role
) -> None:
    """403 naming the roles that may."""
    token = bearer(await make_token(engine, "someone", role, ("X99001",) if role is Role.PRACTICE else ()))
    status, reply = await hook(client, "alertmanager", alertmanager("firing"), token)
    assert status == 403
    assert "monitor" in reply["error"]
    assert await incidents(client) == []


async def test_an_admin_may_call_the_hooks(client: TestClient) -> None:
    """Admin is a superset of every role."""
    assert outcomes((await hook(client, "alertmanager", alertmanager("firing"), AUTH))[1]) == [
        ("opened", "INC-1")
    ]


async def test_a_monitor_token_may_do_nothing_else(client: TestClient, monitor: dict[str, str]) -> None:
    """Reading or opening incidents with it is a 403."""
    async with client.get("/api/incidents", headers=monitor) as reply:
        assert reply.status == 403
    async with client.post("/api/incidents", json=OPEN, headers=monitor) as reply:
        assert reply.status == 403


def am_alert(status: str, fingerprint: str, ods: str, *, services: str = "online booking") -> dict[str, Any]:
    """One alert of a group, labelled with the shared cause (a booking supplier)."""
    return {
        "status": status,
        "labels": {
            "alertname": "BookingDown",
            "cause": "booking-supplier",
            "ods": ods,
            "runbook": "website-down",
        },
        "annotations": {"summary": "Online booking is down", "services": services},
        "startsAt": STARTS,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": fingerprint,
    }


def am_group(*alerts: dict[str, Any]) -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {**alertmanager(status), "alerts": list(alerts)}


async def test_a_groups_alerts_sharing_a_cause_make_one_incident_for_all_their_practices(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """Alertmanager sends a group's alerts together: one incident for the three practices, kept
    while any fires, resolved when all have."""
    first = am_group(
        am_alert("firing", "a1", "X99001"),
        am_alert("firing", "a2", "X99002"),
        am_alert("firing", "a3", "X99003"),
    )
    assert outcomes((await hook(client, "alertmanager", first, monitor))[1]) == [("opened", "INC-1")]
    assert (await incidents(client))[0]["audience"] == "X99001, X99002, X99003"
    partly = am_group(
        am_alert("resolved", "a1", "X99001"),
        am_alert("firing", "a2", "X99002"),
        am_alert("firing", "a3", "X99003"),
    )
    assert outcomes((await hook(client, "alertmanager", partly, monitor))[1]) == [("unchanged", "INC-1")]
    done = am_group(*(am_alert("resolved", f"a{i}", f"X9900{i}") for i in (1, 2, 3)))
    assert outcomes((await hook(client, "alertmanager", done, monitor))[1]) == [("resolved", "INC-1")]
    assert len(await updates_of(client, "INC-1")) == 2


async def test_two_alerts_of_one_cause_taking_turns_do_not_ping_pong(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """Alerts of one cause with different wording, delivered in turn: one update, not one each time."""
    a = am_group(am_alert("firing", "a1", "X99001"))
    b = am_group(am_alert("firing", "a2", "X99001", services="repeat prescriptions"))
    for _ in range(3):
        await hook(client, "alertmanager", a, monitor)
        await hook(client, "alertmanager", b, monitor)
    assert len(await incidents(client)) == 1
    assert len(await updates_of(client, "INC-1")) == 2


async def test_a_delivery_with_one_unknown_practice_acts_on_none_of_it(
    client: TestClient, monitor: dict[str, str]
) -> None:
    """Checked whole first: 422 naming the code, and no incident for the good alert either."""
    body = {
        **alertmanager("firing"),
        "alerts": [
            alertmanager("firing")["alerts"][0],
            {**am_alert("firing", "z", "Z99999"), "labels": {"ods": "Z99999", "runbook": "website-down"}},
        ],
    }
    status, reply = await hook(client, "alertmanager", body, monitor)
    assert status == 422
    assert "Z99999" in reply["error"]
    assert await incidents(client) == []
