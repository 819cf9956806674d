"""Health checks against local HTTP, TCP and DNS targets that go down and come back: one incident
per kind of check, grouped across practices, resolved on recovery, no storm under flapping."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.config.shipped_files import shipped_runbooks_path
from broadcaster.core.errors import ConfigError, DirectoryError
from broadcaster.directory.practices import load_directory
from broadcaster.incidents.queries import IncidentQueries
from broadcaster.incidents.service import Actor, IncidentService
from broadcaster.monitoring.alert_actions import AlertActions
from broadcaster.monitoring.health_checks import HealthMonitor, causes_of, run_health_checks
from broadcaster.runbooks.templates import load_runbooks
from tests.accounts_helpers import FakeClock
from tests.health_targets import Site, TcpPort, name_server
from tests.polling import eventually_async

ACTOR = Actor("health-checks", "checks@test", "monitor")
RUNBOOKS = load_runbooks(shipped_runbooks_path())
QUICK = {
    "interval": 60,
    "timeout": 2,
    "fail_after": 2,
    "recover_after": 2,
    "group_seconds": 0,
    "hold_down": 0,
}


def practice(ods: str, groups: list[str], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ods": ods,
        "name": f"Practice {ods}",
        "groups": groups,
        "placeholders": {"alt_phone": "0113 496 0000"},
        "email": {"recipients": [f"manager@{ods.lower()}.example"]},
        "checks": checks,
    }


def booking(url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "online-booking",
        "kind": "http",
        "target": url,
        "expect_status": [200],
        "expect_text": "Book an appointment",
        "runbook": "website-down",
        "fields": {"services": "online booking"},
        **QUICK,
        **overrides,
    }


def write_directory(
    tmp_path: Path, practices: list[dict[str, Any]], checks: list[dict[str, Any]] = ()
) -> Path:  # type: ignore[assignment]
    path = tmp_path / "practices.yaml"
    doc = {"defaults": {"email_provider": "outbox"}, "checks": list(checks), "practices": practices}
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path


async def written(tmp_path: Path, practices: list[dict[str, Any]], checks: list[dict[str, Any]] = ()) -> Path:  # type: ignore[assignment]
    return await asyncio.to_thread(write_directory, tmp_path, practices, list(checks))


@dataclass
class Rig:
    monitor: HealthMonitor
    clock: FakeClock
    engine: AsyncEngine
    session: aiohttp.ClientSession

    async def rounds(self, count: int = 1, *, step: float = 60.0) -> None:
        for _ in range(count):
            await self.monitor.run_round(self.session)
            self.clock.now += step

    async def incidents(self) -> list[tuple[str, str, str, int]]:
        """(ref, audience, status, updates) of every incident, oldest first."""
        queries = IncidentQueries(self.engine)
        out = []
        for record in reversed(await queries.recent()):
            view = await queries.incident(record.id)
            out.append((record.ref, record.audience.describe(), record.status.value, len(view.updates)))
        return out


async def build(engine: AsyncEngine, tmp_path: Path, directory_path: Path, clock: FakeClock) -> HealthMonitor:
    directory = await asyncio.to_thread(load_directory, directory_path)  # file reads: off the loop
    settings = Settings(outbox_dir=tmp_path / "outbox")
    service = IncidentService(engine=engine, directory=directory, settings=settings, clock=clock)
    actions = AlertActions(
        engine=engine, service=service, settings=settings, runbook=RUNBOOKS.__getitem__, clock=clock
    )
    monitor = HealthMonitor(causes=causes_of(directory), actions=actions, actor=ACTOR, clock=clock)
    monitor.check_config()
    return monitor


@pytest.fixture
async def site(aiohttp_server: Any) -> tuple[Site, TestServer]:
    found = Site()
    server: TestServer = await aiohttp_server(found.app())
    return found, server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def gateway_check(gateway: TcpPort, **overrides: Any) -> dict[str, Any]:
    """North PCN's shared telephony gateway, probed by TCP connect."""
    return {
        "name": "telephony",
        "group": "north-pcn",
        "kind": "tcp",
        "target": f"127.0.0.1:{gateway.port}",
        "runbook": "phone-lines-down",
        **QUICK,
        **overrides,
    }


def url(server: TestServer, name: str) -> str:
    return str(server.make_url(f"/{name}"))


async def test_a_site_that_goes_down_opens_one_incident_and_is_resolved_when_back(
    engine: AsyncEngine, tmp_path: Path, site: tuple[Site, TestServer], session: aiohttp.ClientSession
) -> None:
    """Two failures make it down (one incident), more change nothing; two passes resolve it."""
    pages, server = site
    pages.up = {"x99001"}
    path = await written(tmp_path, [practice("X99001", [], [booking(url(server, "x99001"))])])
    rig = Rig(await build(engine, tmp_path, path, clock := FakeClock()), clock, engine, session)
    await rig.rounds(2)
    pages.up.clear()
    await rig.rounds(1)
    assert await rig.incidents() == []  # one failure is not an outage
    await rig.rounds(5)
    assert await rig.incidents() == [("INC-1", "X99001", "investigating", 1)]
    pages.up = {"x99001"}
    await rig.rounds(1)
    assert (await rig.incidents())[0][2] == "investigating"
    await rig.rounds(3)
    assert await rig.incidents() == [("INC-1", "X99001", "resolved", 2)]


async def test_many_practices_failing_the_same_check_make_one_incident(
    engine: AsyncEngine, tmp_path: Path, site: tuple[Site, TestServer], session: aiohttp.ClientSession
) -> None:
    """A shared booking supplier down: practices failing within group_seconds share one incident."""
    pages, server = site
    codes = ["X99001", "X99002", "X99003", "X99004"]
    pages.up = {c.lower() for c in codes}
    checks = [practice(c, [], [booking(url(server, c.lower()), group_seconds=90)]) for c in codes]
    path = await written(tmp_path, checks)
    rig = Rig(await build(engine, tmp_path, path, clock := FakeClock()), clock, engine, session)
    await rig.rounds(2)
    pages.up -= {"x99001", "x99002"}
    await rig.rounds(2)  # X99001 and X99002 are down; waiting for others
    pages.up -= {"x99003"}
    await rig.rounds(3)  # X99003 down a round later, within the 90 s
    assert await rig.incidents() == [("INC-1", "X99001, X99002, X99003", "investigating", 1)]
    pages.up = {c.lower() for c in codes}
    await rig.rounds(3)
    assert await rig.incidents() == [("INC-1", "X99001, X99002, X99003", "resolved", 2)]


async def test_flapping_never_makes_a_storm(
    engine: AsyncEngine, tmp_path: Path, site: tuple[Site, TestServer], session: aiohttp.ClientSession
) -> None:
    """Up and down every probe: never down twice in a row, so nothing; down and up every two
    probes for an hour: one incident and one resolve, then held down (600 s)."""
    pages, server = site
    path = await written(tmp_path, [practice("X99001", [], [booking(url(server, "x99001"), hold_down=600)])])
    rig = Rig(await build(engine, tmp_path, path, clock := FakeClock()), clock, engine, session)
    for _ in range(10):
        pages.up = {"x99001"}
        await rig.rounds(1)
        pages.up = set()
        await rig.rounds(1)
    assert await rig.incidents() == []
    for _ in range(8):  # 32 probes a minute apart: 8 outages of 2 minutes
        pages.up = set()
        await rig.rounds(2)
        pages.up = {"x99001"}
        await rig.rounds(2)
    found = await rig.incidents()
    assert len(found) <= 3  # at most one per hold-down (600 s) of the 32 minutes
    assert sum(updates for *_, updates in found) <= 6
    assert found[0] == ("INC-1", "X99001", "resolved", 2)


async def test_a_groups_shared_gateway_down_is_one_incident_for_the_group(
    engine: AsyncEngine, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """A TCP check declared for a group: its practices get one incident, resolved when the port is back."""
    gateway = TcpPort()
    await gateway.open()
    tcp = gateway_check(gateway)
    practices = [
        practice("X99001", ["north-pcn"], []),
        practice("X99002", ["north-pcn"], []),
        practice("X99004", ["south-pcn"], []),
    ]
    path = await written(tmp_path, practices, [tcp])
    rig = Rig(await build(engine, tmp_path, path, clock := FakeClock()), clock, engine, session)
    await rig.rounds(2)
    await gateway.close()
    await rig.rounds(3)
    assert await rig.incidents() == [("INC-1", "group north-pcn", "investigating", 1)]
    await gateway.open()
    await rig.rounds(3)
    assert await rig.incidents() == [("INC-1", "group north-pcn", "resolved", 2)]
    await gateway.close()


async def test_a_draft_policy_check_drafts_one_grouped_incident_and_its_resolve(
    engine: AsyncEngine, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """`policy: draft` on a group's gateway: one DRAFT for the group while it stays down; a person
    confirms it; the recovery drafts the resolve, and confirmed, the incident is resolved. A second
    outage that recovers before anyone confirms is discarded, never sent."""
    gateway = TcpPort()
    await gateway.open()
    tcp = gateway_check(gateway, policy="draft")
    practices = [practice("X99001", ["north-pcn"], []), practice("X99002", ["north-pcn"], [])]
    path = await written(tmp_path, practices, [tcp])
    rig = Rig(await build(engine, tmp_path, path, clock := FakeClock()), clock, engine, session)
    queries = IncidentQueries(engine)
    directory = await asyncio.to_thread(load_directory, path)
    service = IncidentService(engine=engine, directory=directory, settings=Settings(), clock=clock)
    person = Actor("icb-comms", "cli@test", "cli")

    async def drafts() -> list[tuple[str, str, str | None]]:
        return [(r.ref, r.status.value, r.draft) for r in reversed(await queries.recent())]

    await rig.rounds(2)
    await gateway.close()
    await rig.rounds(6)
    assert await drafts() == [("INC-1", "investigating", "opening")]
    assert await rig.incidents() == [("INC-1", "group north-pcn", "investigating", 1)]
    await service.confirm_draft(1, seq=0, actor=person)
    await gateway.open()
    await rig.rounds(4)
    assert await drafts() == [("INC-1", "investigating", "update")]
    await service.confirm_draft(1, seq=1, actor=person)
    assert await drafts() == [("INC-1", "resolved", None)]

    await gateway.close()
    await rig.rounds(3)
    assert (await drafts())[-1] == ("INC-2", "investigating", "opening")
    await gateway.open()
    await rig.rounds(3)
    assert (await drafts())[-1] == ("INC-2", "resolved", "discarded")
    await gateway.close()


async def test_a_name_that_stops_resolving_opens_and_resolves(
    engine: AsyncEngine, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """A DNS check asking a local name server: NXDOMAIN is down, the address back is up."""
    async with name_server() as dns:
        dns.records = {"booking.x99002.test": "192.0.2.10"}
        check = {
            "name": "booking-dns",
            "kind": "dns",
            "target": "booking.x99002.test",
            "resolver": dns.address,
            "expect_text": "192.0.2.10",
            "runbook": "website-down",
            "fields": {"services": "online booking"},
            **QUICK,
        }
        path = await written(tmp_path, [practice("X99002", [], [check])])
        rig = Rig(await build(engine, tmp_path, path, clock := FakeClock()), clock, engine, session)
        await rig.rounds(2)
        dns.records = {}
        await rig.rounds(3)
        assert await rig.incidents() == [("INC-1", "X99002", "investigating", 1)]
        dns.records = {"booking.x99002.test": "192.0.2.99"}  # resolves, but elsewhere: still down
        await rig.rounds(3)
        assert (await rig.incidents())[0][2] == "investigating"
        dns.records = {"booking.x99002.test": "192.0.2.10"}
        await rig.rounds(3)
        assert await rig.incidents() == [("INC-1", "X99002", "resolved", 2)]


async def test_the_system_resolver_passes_localhost_and_fails_an_invalid_name(
    engine: AsyncEngine, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """Without a resolver the system's answers: `.invalid` never resolves (RFC 6761)."""
    checks = [
        practice(
            "X99001",
            [],
            [
                {
                    "name": "dns-ok",
                    "kind": "dns",
                    "target": "localhost",
                    "runbook": "website-down",
                    "fields": {"services": "a"},
                    **QUICK,
                    "fail_after": 1,
                }
            ],
        ),
        practice(
            "X99002",
            [],
            [
                {
                    "name": "dns-bad",
                    "kind": "dns",
                    "target": "nowhere.invalid",
                    "runbook": "website-down",
                    "fields": {"services": "b"},
                    **QUICK,
                    "fail_after": 1,
                }
            ],
        ),
    ]
    rig = Rig(
        await build(engine, tmp_path, await written(tmp_path, checks), clock := FakeClock()),
        clock,
        engine,
        session,
    )
    await rig.rounds(1)
    assert [(ref, audience) for ref, audience, *_ in await rig.incidents()] == [("INC-1", "X99002")]


async def test_a_restarted_monitor_opens_nothing_twice_and_still_resolves(
    engine: AsyncEngine, tmp_path: Path, site: tuple[Site, TestServer], session: aiohttp.ClientSession
) -> None:
    """The incident a check opened is remembered in the store, not in the process."""
    pages, server = site
    path = await written(tmp_path, [practice("X99001", [], [booking(url(server, "x99001"))])])
    clock = FakeClock()
    first = Rig(await build(engine, tmp_path, path, clock), clock, engine, session)
    await first.rounds(3)
    assert len(await first.incidents()) == 1
    second = Rig(await build(engine, tmp_path, path, clock), clock, engine, session)
    await second.monitor.restore()
    await second.rounds(4)  # still down: the same incident, no second message
    assert await second.incidents() == [("INC-1", "X99001", "investigating", 1)]
    pages.up = {"x99001"}
    await second.rounds(2)
    assert await second.incidents() == [("INC-1", "X99001", "resolved", 2)]


async def test_a_hanging_target_does_not_delay_the_others(
    engine: AsyncEngine, tmp_path: Path, site: tuple[Site, TestServer]
) -> None:
    """A site that never answers (20 s timeout) while another practice's site goes down: the
    other's incident opens within a second or two, on its own schedule."""
    pages, server = site
    pages.hang = {"x99001"}
    fast = {"interval": 0.05, "timeout": 0.05, "fail_after": 2, "recover_after": 2, "group_seconds": 0}
    checks = [
        practice("X99001", [], [booking(url(server, "x99001"), name="slow-site", interval=20, timeout=20)]),
        practice("X99002", [], [booking(url(server, "x99002"), **fast)]),
    ]
    path = await written(tmp_path, checks)
    monitor = await build(engine, tmp_path, path, FakeClock())
    # The same checks and actions on real time; two probe slots, one held by the hanging site.
    monitor = HealthMonitor(causes=monitor.causes, actions=monitor._actions, actor=ACTOR, concurrency=2)
    running = asyncio.create_task(run_health_checks(monitor))
    try:

        async def opened() -> bool:
            return len(await IncidentQueries(engine).recent()) == 1

        await eventually_async(opened, within=5)
        assert pages.hits["x99001"] == 1  # still waiting on its only probe
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running


@pytest.mark.parametrize(
    ("check", "wanted"),
    [
        ({"kind": "http", "target": "booking.example"}, "an http check's target is a URL"),
        ({"kind": "tcp", "target": "gw.example"}, '"host:port"'),
        ({"kind": "http", "target": "https://a.example", "timeout": 90}, "must not be longer than interval"),
        (
            {"kind": "http", "target": "https://a.example", "policy": "later"},
            "unknown policy 'later'; use policy: open",
        ),
    ],
)
def test_a_bad_check_in_the_directory_names_its_practice_and_field(
    tmp_path: Path, check: dict[str, Any], wanted: str
) -> None:
    """Refused when the directory is read, with the line, practice and what to change."""
    path = write_directory(tmp_path, [practice("X99001", [], [{"name": "site", **check}])])
    with pytest.raises(DirectoryError) as refused:
        load_directory(path)
    assert "practice X99001" in str(refused.value)
    assert wanted in str(refused.value)


def test_a_group_check_for_an_unknown_group_is_refused(tmp_path: Path) -> None:
    """It would reach nobody."""
    tcp = {"name": "telephony", "group": "nowhere", "kind": "tcp", "target": "gw.example:5060"}
    with pytest.raises(DirectoryError, match="no practice is in group 'nowhere'"):
        load_directory(write_directory(tmp_path, [practice("X99001", ["north-pcn"], [])], [tcp]))


async def test_a_check_whose_message_cannot_be_sent_is_refused_at_start(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Found when the monitor starts, not at 7 am when the gateway fails: a placeholder a practice lacks."""
    tcp = {
        "name": "telephony",
        "group": "north-pcn",
        "kind": "tcp",
        "target": "gw.example:5060",
        "runbook": "phone-lines-down",
    }
    bare = {**practice("X99001", ["north-pcn"], []), "placeholders": {}}
    with pytest.raises(ConfigError, match=r"(?s)health check 'telephony' could not send.*X99001 .*alt_phone"):
        await build(engine, tmp_path, await written(tmp_path, [bare], [tcp]), FakeClock())


def test_one_check_name_with_two_runbooks_is_refused(tmp_path: Path) -> None:
    """A name is one kind of check, grouped into one incident: it cannot say two things."""
    checks = [
        practice("X99001", [], [booking("https://a.example")]),
        practice("X99002", [], [booking("https://b.example", runbook="phone-lines-down")]),
    ]
    with pytest.raises(ConfigError, match="differ in kind, runbook or policy"):
        causes_of(load_directory(write_directory(tmp_path, checks)))
