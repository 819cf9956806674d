"""`broadcaster readiness`: each practice's channels checked against local provider fakes; nothing sent."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from tests.cli_runner import CliResult, cli_env, run_cli_async
from tests.fakes.graph_api import PAGE_SCOPES, GraphFake, TokenInfo
from tests.fakes.notify_api import NotifyFake
from tests.fakes.smtp_server import running_smtp_server

DAY = 86400  # expiries sit half a day past whole days: collected long before they run
PAGE, TOKEN = "300000000001", "tok-G10000-page-secret"


def _directory(tmp_path: Path, practice: str) -> Path:
    path = tmp_path / "practices.yaml"
    path.write_text(f"practices:\n  - {{ods: G10000, name: Hill Surgery, {practice}}}\n", encoding="utf-8")
    return path


async def _graph_readiness(tmp_path: Path, aiohttp_server: object, info: TokenInfo, *args: str) -> CliResult:
    graph = GraphFake()
    graph.add_page(PAGE, TOKEN)
    graph.token_info[TOKEN] = info
    server: TestServer = await aiohttp_server(graph.app())  # type: ignore[operator]
    directory = _directory(tmp_path, f"facebook: {{page_id: '{PAGE}', token: fb_g10000}}")
    env = cli_env(
        tmp_path,
        directory=str(directory),
        graph__base_url=str(server.make_url("")).rstrip("/"),
        secrets__fb_g10000=TOKEN,
    )
    result = await run_cli_async(env, tmp_path, "readiness", *args)
    assert graph.writes == []  # a check never posts
    assert TOKEN not in result.out + result.err
    return result


@pytest.mark.parametrize(
    ("info", "code", "line"),
    [
        (TokenInfo(expires_at=int(time.time()) + 40 * DAY + DAY // 2), 0,
         "G10000 facebook: ready: page token valid, expires in 40 days"),
        (TokenInfo(), 0, "G10000 facebook: ready: page token valid, does not expire"),
        (TokenInfo(expires_at=int(time.time()) + 3 * DAY + DAY // 2), 4,
         "G10000 facebook: not ready: page token expires in 3 days"),
        (TokenInfo(is_valid=False, subcode=463, expires_at=int(time.time()) - DAY), 4,
         "G10000 facebook: not ready: page token expired"),
        (TokenInfo(scopes=tuple(s for s in PAGE_SCOPES if s != "pages_manage_posts")), 4,
         "G10000 facebook: not ready: missing pages_manage_posts"),
        (TokenInfo(is_valid=False, subcode=458), 4,
         "G10000 facebook: not ready: page token revoked: the app was removed from the page"),
    ],
    ids=["valid", "never-expires", "expires-soon", "expired", "no-pages_manage_posts", "revoked"],
)  # fmt: skip
async def test_page_token_readiness_is_read_from_debug_token(
    tmp_path: Path, aiohttp_server: object, info: TokenInfo, code: int, line: str
) -> None:
    """Graph's debug_token decides the Facebook cell: valid, expiring, expired, no permission, revoked."""
    result = await _graph_readiness(tmp_path, aiohttp_server, info)
    assert result.code == code, result.out + result.err
    assert line in result.out


async def test_readiness_csv_has_one_row_per_practice_and_channel(
    tmp_path: Path, aiohttp_server: object
) -> None:
    """--csv gives practice, name, channel, state and reason for a spreadsheet."""
    info = TokenInfo(scopes=("pages_show_list",))
    result = await _graph_readiness(tmp_path, aiohttp_server, info, "--csv")
    assert result.code == 4
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert rows == [
        {"practice": "G10000", "name": "Hill Surgery", "channel": "facebook", "state": "not ready",
         "reason": "missing pages_manage_posts"},
    ]  # fmt: skip


@pytest.mark.parametrize(("password", "code", "said"), [
    ("right-password-1", 0, "SMTP login accepted by 127.0.0.1"),
    ("wrong-password-2", 4, "SMTP login refused by 127.0.0.1"),
])  # fmt: skip
async def test_smtp_login_is_tried_and_no_mail_sent(
    tmp_path: Path, password: str, code: int, said: str
) -> None:
    """The SMTP cell is a real login against the relay: accepted or refused, and no message goes."""
    async with running_smtp_server(credentials=("alerts", "right-password-1")) as smtp:
        env = cli_env(
            tmp_path,
            directory=str(_directory(tmp_path, "email: {recipients: [manager@hill.example]}")),
            smtp__host=smtp.host,
            smtp__port=str(smtp.port),
            smtp__security="none",
            smtp__username="alerts",
            smtp__password=password,
        )
        result = await run_cli_async(env, tmp_path, "readiness")
        assert smtp.recorder.received == []
    assert result.code == code, result.out + result.err
    assert f"G10000 email: {'ready' if code == 0 else 'not ready'}: {said}" in result.out
    assert password not in result.out + result.err


@pytest.mark.parametrize(("secret", "code", "said"), [
    (NotifyFake().secret, 0, "ready: Notify API key accepted"),
    ("00000000-1111-4222-8333-444444444444", 4, "not ready: Notify refused the API key (403)"),
])  # fmt: skip
async def test_notify_key_is_checked_with_notify(
    tmp_path: Path, aiohttp_server: object, secret: str, code: int, said: str
) -> None:
    """The SMS cell through Notify asks Notify whether the key is accepted; a wrong key is not ready."""
    notify = NotifyFake()
    server: TestServer = await aiohttp_server(notify.app())  # type: ignore[operator]
    key = f"broadcaster_fake-{notify.service_id}-{secret}"
    env = cli_env(
        tmp_path,
        directory=str(_directory(tmp_path, "sms: {recipients: ['07700900001']}")),
        notify__base_url=str(server.make_url("")).rstrip("/"),
        notify__api_key=key,
        notify__sms_template_id=notify.sms_template_id,
    )
    result = await run_cli_async(env, tmp_path, "readiness")
    assert result.code == code, result.out + result.err
    assert f"G10000 sms: {said}" in result.out
    assert notify.notifications == []
    assert secret not in result.out + result.err


async def test_an_apprise_url_apprise_cannot_parse_is_not_ready(tmp_path: Path) -> None:
    """An apprise URL with an unknown scheme is reported by its secret's name, never its value."""
    env = cli_env(
        tmp_path,
        directory=str(_directory(tmp_path, "apprise: [teams_hook, bad_hook]")),
        secrets__teams_hook="json://localhost:1/hook",
        secrets__bad_hook="nosuchscheme://secret-part-9876/x",
    )
    result = await run_cli_async(env, tmp_path, "readiness")
    assert result.code == 4, result.out + result.err
    assert "the apprise URL in secret 'bad_hook' cannot be parsed (scheme or fields)" in result.out
    assert "secret-part-9876" not in result.out + result.err


async def test_a_secret_not_set_is_not_ready_and_a_bad_directory_is_refused(tmp_path: Path) -> None:
    """A missing page token names the variable to set (exit 4); an unreadable directory exits 2."""
    directory = _directory(tmp_path, f"facebook: {{page_id: '{PAGE}', token: fb_g10000}}")
    missing = await run_cli_async(cli_env(tmp_path, directory=str(directory)), tmp_path, "readiness")
    assert missing.code == 4
    assert "secret 'fb_g10000' is not set (set BROADCASTER_SECRETS__FB_G10000)" in missing.out
    refused = await run_cli_async(
        cli_env(tmp_path, directory=str(tmp_path / "nope.yaml")), tmp_path, "readiness"
    )
    assert refused.code == 2
    assert "Traceback" not in refused.err
