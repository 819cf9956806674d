"""Drills through the real CLI and API: `send --exercise` reaches only test endpoints and the outbox.

Every practice's real page, numbers and addresses are at local Graph, Notify and SMTP fakes that
would accept them, so a drill that leaked would be seen there. One practice declares test
endpoints for every channel, one declares none, one only a test address.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.config.settings import Settings
from broadcaster.directory.practices import Directory, load_directory
from tests.accounts_helpers import KEYS, csrf_of, make_user, sign_in
from tests.api_server import AUTH, TOKEN, api_client
from tests.cli_runner import CliResult, cli_env, run_cli, run_cli_async
from tests.fakes.graph_api import GraphFake
from tests.fakes.notify_api import NotifyFake
from tests.fakes.smtp_server import RunningSmtpServer, running_smtp_server
from tests.polling import eventually_async

REAL_PAGES = {
    "fb_real_one": "100000000000001",
    "fb_real_two": "100000000000002",
    "fb_real_three": "100000000000003",
}
TEST_PAGE, TEST_TOKEN_REF = "100000000000901", "fb_test_one"
REAL_NUMBERS = {"+447700900001", "+447700900002", "+447700900003"}
TEST_NUMBER = "+447700900901"
REAL_ADDRESSES = {"staff@declared.example", "staff@undeclared.example", "staff@partly.example"}
TEST_ADDRESSES = {"drills@declared.example", "drills@partly.example"}
TITLE = "Phone lines down"

DIRECTORY = """\
practices:
  - ods: D00001
    name: Declared Surgery
    facebook: {page_id: '100000000000001', token: fb_real_one}
    sms: {recipients: ['07700 900001']}
    email: {recipients: [staff@declared.example]}
    exercise:
      facebook: {page_id: '100000000000901', token: fb_test_one}
      sms: {recipients: ['07700 900901']}
      email: {recipients: [drills@declared.example]}
  - ods: D00002
    name: Undeclared Practice
    facebook: {page_id: '100000000000002', token: fb_real_two}
    sms: {recipients: ['07700 900002']}
    email: {recipients: [staff@undeclared.example]}
    apprise: [teams_two]
  - ods: D00003
    name: Partly Declared Centre
    facebook: {page_id: '100000000000003', token: fb_real_three}
    sms: {recipients: ['07700 900003']}
    email: {recipients: [staff@partly.example]}
    exercise:
      email: {recipients: [drills@partly.example]}
"""


def _token(ref: str) -> str:
    return f"page-token-{ref}-S3CRET"


@dataclass
class World:
    graph: GraphFake
    notify: NotifyFake
    smtp: RunningSmtpServer
    env: dict[str, str]
    workdir: Path

    async def cli(self, *args: str) -> CliResult:
        return await run_cli_async(self.env, self.workdir, *args)

    def public_requests(self) -> list[str]:
        """Every request any fake got about a real (public) page, number or address."""
        pages = [r for r in self.graph.requests if any(page in r for page in REAL_PAGES.values())]
        texts = [n.to for n in self.notify.notifications if n.to in REAL_NUMBERS]
        mails = [a for m in self.smtp.recorder.received for a in m.rcpt_tos if a in REAL_ADDRESSES]
        return pages + texts + mails


@pytest.fixture
async def world(tmp_path: Path, aiohttp_server: object) -> AsyncIterator[World]:
    graph = GraphFake()
    for ref, page in {**REAL_PAGES, TEST_TOKEN_REF: TEST_PAGE}.items():
        graph.add_page(page, _token(ref))  # the real pages would accept a post: a leak would land
    notify = NotifyFake()
    graph_server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    notify_server: TestServer = await aiohttp_server(notify.app())  # type: ignore[operator]
    (tmp_path / "practices.yaml").write_text(DIRECTORY, encoding="utf-8")
    async with running_smtp_server() as smtp:
        env = cli_env(
            tmp_path,
            directory=str(tmp_path / "practices.yaml"),
            graph__base_url=str(graph_server.make_url("")).rstrip("/"),
            notify__base_url=str(notify_server.make_url("")).rstrip("/"),
            notify__api_key=notify.api_key,
            notify__sms_template_id=notify.sms_template_id,
            notify__email_template_id=notify.email_template_id,
            smtp__host=smtp.host,
            smtp__port=str(smtp.port),
            smtp__security="none",
            retry__initial_seconds="0.1",
            **{f"secrets__{ref}": _token(ref) for ref in (*REAL_PAGES, TEST_TOKEN_REF)},
        )
        yield World(graph, notify, smtp, env, tmp_path)


@pytest.fixture
async def drilled(world: World) -> World:
    """A drill to every practice, then its resolve, both delivered."""
    opened = await world.cli(
        "send", "--exercise", "--all", "--title", TITLE, "--message", "Call 0113 496 0000."
    )
    assert opened.code == 0, opened.err
    assert "EXERCISE" in opened.out
    resolved = await world.cli("resolve", "INC-1", "Phones are back.")
    assert resolved.code == 0, resolved.err
    return world


async def test_a_drill_reaches_no_public_endpoint(drilled: World) -> None:
    """No fake receives a single request about a practice's real page, numbers or addresses."""
    assert drilled.public_requests() == []
    assert all(drilled.graph.posts_on(page) == [] for page in REAL_PAGES.values())


async def test_a_drill_goes_to_the_declared_test_endpoints_marked_exercise(drilled: World) -> None:
    """The test page gets one post with its resolve comment, the test number both texts, the test
    addresses both emails, and every one of them says EXERCISE."""
    (post,) = drilled.graph.posts_on(TEST_PAGE)
    # The resolve edited its first line, as it does for a real incident.
    assert post.message.startswith("RESOLVED: EXERCISE: Phone lines down\nEXERCISE - no action needed. ")
    (comment,) = post.comments
    assert comment.message.startswith("Resolved: EXERCISE - no action needed. Phones are back.")
    assert {n.to for n in drilled.notify.notifications} == {TEST_NUMBER}
    assert len(drilled.notify.notifications) == 2
    assert all(
        "EXERCISE - no action needed." in n.personalisation["body"] for n in drilled.notify.notifications
    )
    received = drilled.smtp.recorder.received
    assert {a for m in received for a in m.rcpt_tos} == TEST_ADDRESSES
    assert len(received) == 4  # the opening and the resolve, to each test address
    assert all(str(m.message["Subject"]).startswith("[INC-1] EXERCISE: ") for m in received)
    assert all("EXERCISE - no action needed." in m.message.get_body().get_content() for m in received)  # type: ignore[union-attr]


async def test_channels_without_test_endpoints_land_only_in_the_outbox(drilled: World) -> None:
    """The undeclared practice's every channel, and the partly declared one's page and texts,
    are files in the outbox folder, marked EXERCISE; the fully declared practice has none there."""
    outbox = drilled.workdir / "outbox" / "INC-1"
    undeclared = sorted(p.name for p in (outbox / "D00002").iterdir())
    assert undeclared == [
        "00-apprise-teams_two.txt",
        "00-email-staff@undeclared.example.eml",
        "00-facebook-100000000000002.txt",
        "00-sms-+447700900002.txt",
        "01-apprise-teams_two.txt",
        "01-email-staff@undeclared.example.eml",
        "01-facebook-100000000000002.txt",
        "01-sms-+447700900002.txt",
    ]
    partly = {p.name.split("-")[1] for p in (outbox / "D00003").iterdir()}
    assert partly == {"facebook", "sms"}
    assert not (outbox / "D00001").exists()
    files = [p for p in outbox.rglob("*") if p.is_file()]
    assert len(files) == 12
    assert all("EXERCISE" in p.read_text(encoding="utf-8") for p in files)


async def test_drill_report_lists_every_practice_and_channel_with_times(drilled: World) -> None:
    """The report names each practice x channel's route and test recipient, delivered, with a time,
    and sums up how many landed and how fast."""
    done = await drilled.cli("drill-report", "INC-1")
    assert done.code == 0, done.err
    for expected in ("D00001", "D00002", "D00003", "facebook/graph", "sms/notify", "email/smtp"):
        assert expected in done.out
    for expected in (
        "facebook/outbox",
        "sms/outbox",
        "email/outbox",
        "apprise/outbox",
        "drills@partly.example",
    ):
        assert expected in done.out
    # 1: 3 channels; 2: 4 channels (outbox); 3: 3 channels; each opened and resolved.
    assert "20 delivered of 20; median " in done.out
    assert "slowest" in done.out


async def test_drill_report_as_csv_has_a_timed_row_per_message(drilled: World) -> None:
    """--csv: a header and one row per message, every one delivered with its seconds."""
    done = await drilled.cli("drill-report", "INC-1", "--csv")
    assert done.code == 0, done.err
    rows = list(csv.DictReader(io.StringIO(done.out)))
    assert len(rows) == 20
    cells = {(r["practice"], r["channel"]) for r in rows}
    assert cells == {
        *((ods, c) for ods in ("D00001", "D00003") for c in ("facebook", "sms", "email")),
        *(("D00002", c) for c in ("facebook", "sms", "email", "apprise")),
    }
    assert all(r["state"] == "delivered" and float(r["seconds_to_deliver"]) >= 0 for r in rows)
    assert {r["recipient"] for r in rows if r["practice"] == "D00001"} == {
        TEST_PAGE,
        TEST_NUMBER,
        "drills@declared.example",
    }
    real = REAL_NUMBERS | REAL_ADDRESSES | set(REAL_PAGES.values())
    assert {r["route"] for r in rows if r["recipient"] in real} <= {
        "facebook/outbox",
        "sms/outbox",
        "email/outbox",
    }


async def test_a_drill_is_never_published(drilled: World) -> None:
    """The public pages, feeds, CAP alerts and banner written afterwards carry nothing of it."""
    site = drilled.workdir / "site"
    done = await drilled.cli("publish", "--to", str(site))
    assert done.code == 0, done.err
    files = [p for p in site.rglob("*") if p.is_file()]
    assert files
    leaked = [p.name for p in files if TITLE in p.read_text(encoding="utf-8", errors="replace")]
    assert leaked == []
    assert all("INC-1" not in p.read_text(encoding="utf-8", errors="replace") for p in files)


async def test_list_and_status_say_exercise(drilled: World) -> None:
    """`list` and `status` mark the drill EXERCISE."""
    listed = await drilled.cli("list")
    assert "EXERCISE: Phone lines down" in listed.out
    status = await drilled.cli("status", "INC-1")
    assert "EXERCISE" in status.out


def test_drill_report_refuses_an_incident_that_was_not_an_exercise(tmp_path: Path) -> None:
    """A real incident has no drill report: exit 2, saying why, nothing printed on stdout."""
    sent = run_cli(tmp_path, "send", "--all", "--title", "Phones down", "--message", "Call the surgery.")
    assert sent.code == 0, sent.err
    done = run_cli(tmp_path, "drill-report", "INC-1")
    assert done.code == 2
    assert "INC-1 was not an exercise" in done.err
    assert "Traceback" not in done.err
    assert done.out == ""


async def test_the_api_exercise_flag_reaches_no_public_endpoint(
    world: World, engine: AsyncEngine, tmp_path: Path
) -> None:
    """POST /api/incidents with "exercise": true goes to the test endpoints and the outbox only,
    the incident list says exercise and the public status page shows nothing of it."""
    settings, directory = await _app_settings_and_directory(world, tmp_path)
    body = {"title": TITLE, "message": "Call 0113 496 0000.", "audience": {"all": True}, "exercise": True}
    async with api_client(engine, directory, tmp_path, settings=settings) as client:
        response = await client.post("/api/incidents", json=body, headers=AUTH)
        assert response.status == 201, await response.text()
        await _all_delivered(client, 9)
        listed = await (await client.get("/api/incidents", headers=AUTH)).json()
        assert listed[0]["exercise"] is True
        assert listed[0]["title"] == f"EXERCISE: {TITLE}"
        public = await client.get("/status")
        assert TITLE not in await public.text()
    assert world.public_requests() == []
    assert len(world.graph.posts_on(TEST_PAGE)) == 1
    assert {n.to for n in world.notify.notifications} == {TEST_NUMBER}


async def test_the_console_exercise_box_reaches_no_public_endpoint(
    world: World, engine: AsyncEngine, tmp_path: Path
) -> None:
    """The send form's "Exercise (drill)" box: the preview says EXERCISE, and the confirmed send
    goes to the test endpoints and the outbox only."""
    settings, directory = await _app_settings_and_directory(world, tmp_path)
    async with api_client(engine, directory, tmp_path, settings=settings, keys=KEYS) as client:
        totp, _ = await make_user(engine, "comms", Role.COMMISSIONER)
        assert (await sign_in(client, "comms", totp)).status == 303
        compose = await (await client.get("/send/compose")).text()
        assert '<input type="checkbox" name="exercise" value="on"> Exercise (drill)' in compose
        form = {
            "csrf_token": await csrf_of(client, "/send/compose"),
            "title": TITLE,
            "message": "Call 0113 496 0000.",
            "severity": "major",
            "audience": "all",
            "channel": ["facebook", "sms", "email"],
            "exercise": "on",
        }
        preview = await client.post("/send/preview", data=form)
        assert preview.status == 200
        assert f"EXERCISE: {TITLE}" in await preview.text()
        sent = await client.post("/send", data=form, allow_redirects=False)
        assert sent.status == 303, await sent.text()
        await _all_delivered(client, 9)
    assert world.public_requests() == []
    assert len(world.graph.posts_on(TEST_PAGE)) == 1
    assert {a for m in world.smtp.recorder.received for a in m.rcpt_tos} == TEST_ADDRESSES


async def _all_delivered(client: TestClient, count: int) -> None:
    async def delivered() -> bool:
        found = await (await client.get("/api/incidents/INC-1", headers=AUTH)).json()
        return found["updates"][0]["deliveries"] == {"delivered": count}  # type: ignore[no-any-return]

    await eventually_async(delivered)


async def _app_settings_and_directory(world: World, tmp_path: Path) -> tuple[Settings, Directory]:
    """The app's settings pointed at the fakes, and the directory without its apprise URL
    (apprise's import reads files, which an event loop under blockbuster must not)."""
    env = world.env
    settings = Settings(
        outbox_dir=tmp_path / "api-outbox",
        api_token=SecretStr(TOKEN),
        graph={"base_url": env["BROADCASTER_GRAPH__BASE_URL"]},
        notify={
            "base_url": env["BROADCASTER_NOTIFY__BASE_URL"],
            "api_key": env["BROADCASTER_NOTIFY__API_KEY"],
            "sms_template_id": env["BROADCASTER_NOTIFY__SMS_TEMPLATE_ID"],
            "email_template_id": env["BROADCASTER_NOTIFY__EMAIL_TEMPLATE_ID"],
        },
        smtp={"host": world.smtp.host, "port": world.smtp.port, "security": "none"},
        secrets={ref: SecretStr(_token(ref)) for ref in (*REAL_PAGES, TEST_TOKEN_REF)},
    )
    no_apprise = tmp_path / "practices-api.yaml"
    no_apprise.write_text(DIRECTORY.replace("    apprise: [teams_two]\n", ""), encoding="utf-8")
    return settings, await asyncio.to_thread(load_directory, no_apprise)


def test_a_bad_test_number_in_the_exercise_block_is_named_by_check(tmp_path: Path) -> None:
    """`check` refuses a landline among a practice's test numbers, naming the practice and field."""
    (tmp_path / "practices.yaml").write_text(
        DIRECTORY.replace("sms: {recipients: ['07700 900901']}", "sms: {recipients: ['0113 496 0000']}"),
        encoding="utf-8",
    )
    done = run_cli(tmp_path, "check", env={"BROADCASTER_DIRECTORY": str(tmp_path / "practices.yaml")})
    assert done.code == 2
    assert "practice D00001 (Declared Surgery) [entry 1], field exercise.sms.recipients[0]" in done.err
    assert "Traceback" not in done.err


def test_check_asks_for_a_test_page_token_that_is_not_set(tmp_path: Path) -> None:
    """A declared test page needs its token like any page: `check` names the missing secret."""
    (tmp_path / "practices.yaml").write_text(DIRECTORY, encoding="utf-8")
    secrets = {f"BROADCASTER_SECRETS__{ref.upper()}": _token(ref) for ref in REAL_PAGES}
    env = {
        "BROADCASTER_DIRECTORY": str(tmp_path / "practices.yaml"),
        "BROADCASTER_SECRETS__TEAMS_TWO": "json://localhost/",
        **secrets,
    }
    done = run_cli(tmp_path, "check", env=env)
    assert done.code == 2
    assert "fb_test_one" in done.err
