"""The public copy over real HTTP: status pages, feeds, CAP alerts and the banner, with no token."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import xmlschema
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.directory.practices import Directory
from broadcaster.store.schema import audit_events, deliveries
from tests.api_server import AUTH

CAP_SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "schemas" / "CAP-v1.2.xsd")
OPENING = {
    "title": "Phone lines down",
    "message": "Our phone lines are down. Please call {alt_phone} instead.",
    "audience": {"groups": ["north-pcn"]},  # X99001, X99002, X99003
}
IDENTIFIED = {"status": "identified", "message": "The phone company has found the fault."}
RESOLVED = {"status": "resolved", "message": "Phone lines are working again."}


async def send(client: TestClient, path: str, body: dict[str, object]) -> None:
    reply = await client.post(path, json=body, headers=AUTH)
    assert reply.status == 201, await reply.text()


async def text_of(client: TestClient, path: str) -> str:
    reply = await client.get(path)  # no Authorization header: the public never has the token
    assert reply.status == 200, (path, reply.status)
    return await reply.text()


async def every_public_output(client: TestClient) -> dict[str, str]:
    paths = ["/status", "/status/feed.atom", "/banner.js", "/banner/"]
    for ods in ("X99001", "X99002", "X99003", "X99004", "X99005", "X99006"):
        paths += [f"/status/{ods}", f"/status/{ods}/feed.atom", f"/banner/{ods}.json"]
    paths += ["/cap/INC-1.xml", "/cap/INC-1.0.xml", "/cap/INC-1.1.xml"]
    return {path: await text_of(client, path) for path in paths}


async def test_practice_page_shows_the_open_thread_newest_first_without_a_token(client: TestClient) -> None:
    """Open and update an incident: its practice's page shows both texts, newest first, with the
    practice's own alternative number, and tells patients about 111 and 999."""
    await send(client, "/api/incidents", OPENING)
    await send(client, "/api/incidents/INC-1/updates", IDENTIFIED)

    page = await text_of(client, "/status/X99002")

    assert "Oak Lane Medical Centre" in page
    assert "Status: Cause identified" in page
    newer, older = page.index("has found the fault"), page.index("Please call 0113 496 0002 instead")
    assert newer < older
    assert "111.nhs.uk" in page
    assert "999" in page
    assert "<script" not in page


async def test_area_page_lists_open_incidents_then_resolved_history(client: TestClient) -> None:
    """/status shows an open incident with its practices, and once resolved, under history."""
    await send(client, "/api/incidents", OPENING)
    page = await text_of(client, "/status")
    assert "Current problems" in page
    assert "Phone lines down" in page
    assert "Hillside Family Practice" in page

    await send(client, "/api/incidents/INC-1/updates", RESOLVED)
    page = await text_of(client, "/status/")
    assert "No practice has reported a problem." in page
    assert "Recently resolved" in page
    assert "Phone lines down" in page


async def test_feeds_carry_every_update_as_an_entry(client: TestClient) -> None:
    """The practice feed has one Atom entry per update, in the practice's own words."""
    await send(client, "/api/incidents", OPENING)
    await send(client, "/api/incidents/INC-1/updates", IDENTIFIED)

    feed = await text_of(client, "/status/X99001/feed.atom")
    area = await text_of(client, "/status/feed.atom")

    assert feed.count("<entry>") == 2
    assert "Please call 0113 496 0001 instead." in feed
    assert "Cause identified: Phone lines down" in feed
    assert area.count("<entry>") == 2
    assert (await text_of(client, "/status/X99006/feed.atom")).count("<entry>") == 0


async def test_cap_alerts_are_valid_and_thread_alert_update_cancel(client: TestClient) -> None:
    """Each update is a CAP 1.2 alert valid against the OASIS schema: Alert, then Update, then
    Cancel, each referencing the earlier ones, with the practices as areas."""
    await send(client, "/api/incidents", OPENING)
    await send(client, "/api/incidents/INC-1/updates", IDENTIFIED)
    await send(client, "/api/incidents/INC-1/updates", RESOLVED)

    alerts = [await text_of(client, f"/cap/INC-1.{seq}.xml") for seq in range(3)]
    for alert in alerts:
        CAP_SCHEMA.validate(alert)  # raises with the first violation
    decoded = [CAP_SCHEMA.to_dict(a) for a in alerts]

    assert [d["msgType"] for d in decoded] == ["Alert", "Update", "Cancel"]
    assert [d["status"] for d in decoded] == ["Actual"] * 3
    assert "references" not in decoded[0]
    assert decoded[2]["references"].count(",INC-1.") == 2
    info = decoded[0]["info"][0]
    assert info["category"] == ["Health"]
    assert info["event"] == "Phone lines down"
    assert info["area"][0]["areaDesc"] == "Riverside Surgery, LS1 4AB"
    assert "111" in info["instruction"]
    assert decoded[2]["info"][0]["responseType"] == ["AllClear"]
    assert await text_of(client, "/cap/INC-1.xml") == alerts[2]  # the latest


async def test_nothing_internal_appears_in_any_public_output(
    client: TestClient, engine: AsyncEngine, example_directory: Directory
) -> None:
    """No recipient number or address, credential reference, audit detail, author, staff
    checklist, staff-only incident or API token appears in any page, feed, alert or banner."""
    await send(client, "/api/incidents", OPENING)
    await send(client, "/api/incidents/INC-1/updates", IDENTIFIED)
    staff_only = {
        "title": "Staff briefing at noon",
        "message": "INTERNAL staff only: meet in room 2.",
        "audience": {"all": True},
        "channels": ["email"],
    }
    await send(client, "/api/incidents", staff_only)

    outputs = await every_public_output(client)

    forbidden = {"api-token", "Staff briefing", "INTERNAL staff only", "What to do now", "teams_north"}
    async with engine.connect() as conn:
        for row in await conn.execute(select(deliveries.c.recipient, deliveries.c.credential_ref)):
            forbidden |= {row.recipient, row.recipient.replace("+44", "0")} | {row.credential_ref or ""}
        for row in await conn.execute(select(audit_events.c.origin, audit_events.c.detail)):
            forbidden.add(row.origin)
    for practice in example_directory.practices:
        forbidden |= set(practice.email.recipients if practice.email else [])
        if practice.facebook:
            forbidden |= {practice.facebook.token, practice.facebook.page_id}
    forbidden.discard("")
    for path, text in outputs.items():
        leaked = sorted(word for word in forbidden if word in text)
        assert not leaked, f"{path} shows {leaked}"
        assert not re.search(r"\+447\d{9}|07700 ?9\d{5}", text), path
    assert "/cap/INC-2.xml" not in str(outputs)
    assert (await client.get("/cap/INC-2.xml")).status == 404  # the staff-only incident


async def test_runbook_checklists_never_reach_the_public_copy(tmp_path: Path) -> None:
    """A runbook send gives staff a checklist by email; no checklist line is published."""
    from tests.cli_runner import run_cli  # noqa: PLC0415

    sent = run_cli(tmp_path, "send", "--runbook", "phone-lines-down", "--ods", "X99002")
    assert sent.code == 0, sent.err
    published = run_cli(tmp_path, "publish", "--to", str(tmp_path / "site"))
    assert published.code == 0, published.err

    texts = "\n".join(p.read_text() for p in (tmp_path / "site").rglob("*") if p.is_file())
    assert "We are working with our phone provider" in texts  # the patient wording
    for line in ("Make sure someone answers", "Report the fault to your phone provider", "What to do now"):
        assert line not in texts


async def test_conditional_get_answers_304_for_an_unchanged_page(client: TestClient) -> None:
    """A reader sending back the ETag or Last-Modified gets a 304; after an update, the page again."""
    await send(client, "/api/incidents", OPENING)
    first = await client.get("/status/X99001")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "max-age" in first.headers["Cache-Control"]

    again = await client.get("/status/X99001", headers={"If-None-Match": etag})
    since = await client.get("/status/X99001/feed.atom", headers={"If-Modified-Since": modified})
    assert again.status == 304
    assert await again.read() == b""
    assert since.status == 304

    await send(client, "/api/incidents/INC-1/updates", IDENTIFIED)
    changed = await client.get("/status/X99001", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag


async def test_banner_is_empty_without_an_open_incident(client: TestClient) -> None:
    """The banner data says nothing is open until an incident is, and again once it is resolved."""
    empty = json.loads(await text_of(client, "/banner/X99001.json"))
    await send(client, "/api/incidents", OPENING)
    showing = json.loads(await text_of(client, "/banner/X99001.json"))
    elsewhere = json.loads(await text_of(client, "/banner/X99006.json"))
    await send(client, "/api/incidents/INC-1/updates", RESOLVED)
    after = json.loads(await text_of(client, "/banner/X99001.json"))

    assert empty == {"open": False, "ods": "X99001"}
    assert showing["open"] is True
    assert showing["title"] == "Phone lines down"
    assert showing["status"] == "Investigating"
    assert elsewhere["open"] is False
    assert after["open"] is False
    reply = await client.get("/banner/X99001.json")
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in reply.headers


@pytest.mark.parametrize(
    "path", ["/status/Z99999", "/status/not-a-code/", "/cap/INC-9.xml", "/cap/INC-x.xml", "/banner/Z1.json"]
)
async def test_unknown_practice_or_incident_is_a_plain_404_page(client: TestClient, path: str) -> None:
    """An unknown ODS code or reference is an HTML 404 page, never a 500 or a JSON error."""
    reply = await client.get(path)
    assert reply.status == 404
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "Page not found" in await reply.text()


async def test_api_still_needs_the_token(client: TestClient) -> None:
    """Opening the public paths did not open the API."""
    assert (await client.get("/api/incidents")).status == 401
