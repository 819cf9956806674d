"""Signing in through the real pages: password then TOTP, sealed cookies, CSRF on every form,
failed sign-ins slowed then locked (on a test clock), codes that work once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.accounts.sign_in_throttle import SignInThrottle
from broadcaster.config.settings import Settings, WebSettings
from broadcaster.directory.practices import Directory
from tests.accounts_helpers import (
    BY,
    KEYS,
    PASSWORD,
    FakeClock,
    accounts,
    csrf_of,
    make_user,
    sign_in,
    submit_code,
    submit_password,
)
from tests.api_server import OPEN, api_client


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> AsyncIterator[TestClient]:
    async with api_client(engine, example_directory, tmp_path, keys=KEYS) as client:
        yield client


async def test_password_then_totp_signs_in_with_an_httponly_samesite_cookie(
    client: TestClient, engine: AsyncEngine
) -> None:
    """The right password leads to the code page; the authenticator's code to a session and /account."""
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    first = await submit_password(client, "cora", PASSWORD)
    assert (first.status, first.headers["Location"]) == (303, "/login/code")
    assert (await client.get("/api/incidents")).status == 401  # a password alone opens nothing

    done = await submit_code(client, totp.now())
    assert (done.status, done.headers["Location"]) == (303, "/")  # HOME: the console's incident list
    cookie = done.cookies["broadcaster_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]
    page = await client.get("/account")
    assert "Signed in as <strong>cora</strong> (commissioner)" in await page.text()
    assert (await client.get("/api/incidents")).status == 200


async def test_the_cookie_is_secure_when_secure_cookies_is_set(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """BROADCASTER_WEB__SECURE_COOKIES=true (behind TLS) marks the session cookie Secure."""
    settings = Settings(outbox_dir=tmp_path / "outbox", web=WebSettings(secure_cookies=True))
    async with api_client(engine, example_directory, tmp_path, keys=KEYS, settings=settings) as client:
        page = await client.get("/login")
        assert page.cookies["broadcaster_session"]["secure"] is True


async def test_a_wrong_password_or_code_says_only_that_it_is_wrong(
    client: TestClient, engine: AsyncEngine
) -> None:
    """A wrong password, or a wrong code after the right one, is a 401 page that names neither."""
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    wrong = await submit_password(client, "cora", "not the password at all")
    assert wrong.status == 401
    assert "The user name or password is wrong." in await wrong.text()
    unknown = await submit_password(client, "nobody", PASSWORD)
    assert unknown.status == 401
    assert "The user name or password is wrong." in await unknown.text()

    assert (await submit_password(client, "cora", PASSWORD)).status == 303
    bad_code = await submit_code(client, "000000" if totp.now() != "000000" else "111111")
    assert bad_code.status == 401
    assert "That code is wrong or has been used already." in await bad_code.text()


async def test_a_totp_code_works_once(client: TestClient, engine: AsyncEngine) -> None:
    """The code that signed someone in cannot sign in again (someone watching the screen)."""
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    at = time.time()
    assert (await sign_in(client, "cora", totp, at=at)).status == 303
    client.session.cookie_jar.clear()
    replayed = await sign_in(client, "cora", totp, at=at)
    assert replayed.status == 401


async def test_a_recovery_code_works_once(client: TestClient, engine: AsyncEngine) -> None:
    """A recovery code stands in for the authenticator one time; the second time it is refused."""
    _, codes = await make_user(engine, "cora", Role.COMMISSIONER)
    assert (await submit_password(client, "cora", PASSWORD)).status == 303
    assert (await submit_code(client, codes[0].upper().replace("-", " "))).status == 303
    assert (await client.get("/api/incidents")).status == 200

    client.session.cookie_jar.clear()
    assert (await submit_password(client, "cora", PASSWORD)).status == 303
    assert (await submit_code(client, codes[0])).status == 401
    assert (await submit_code(client, codes[1])).status == 303


async def test_a_form_post_without_the_csrf_token_is_refused(client: TestClient, engine: AsyncEngine) -> None:
    """Sign-in and sign-out forms without the session's CSRF token, or with another session's, are 403."""
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    missing = await client.post("/login", data={"name": "cora", "password": PASSWORD}, allow_redirects=False)
    assert missing.status == 403
    assert "CSRF token is missing or wrong" in (await missing.json())["error"]
    forged = await client.post(
        "/login", data={"name": "cora", "password": PASSWORD, "csrf_token": "x" * 43}, allow_redirects=False
    )
    assert forged.status == 403

    assert (await sign_in(client, "cora", totp)).status == 303
    assert (await client.post("/logout", data={}, allow_redirects=False)).status == 403
    assert (await client.get("/api/incidents")).status == 200  # still signed in


async def test_a_session_json_post_needs_the_csrf_header(client: TestClient, engine: AsyncEngine) -> None:
    """A script riding on the session cookie must send X-CSRF-Token; a bearer-token call needs none."""
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    assert (await sign_in(client, "cora", totp)).status == 303
    refused = await client.post("/api/incidents", json=OPEN)
    assert refused.status == 403
    token = await csrf_of(client, "/account")
    accepted = await client.post("/api/incidents", json=OPEN, headers={"X-CSRF-Token": token})
    assert accepted.status == 201
    audit = await client.get("/api/audit")
    assert audit.status == 403  # a commissioner does not read the audit trail


async def test_signing_out_ends_the_session(client: TestClient, engine: AsyncEngine) -> None:
    """After the sign-out form, the API is a 401 and pages send to /login again."""
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    assert (await sign_in(client, "cora", totp)).status == 303
    token = await csrf_of(client, "/account")
    out = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (303, "/login")
    assert (await client.get("/api/incidents")).status == 401


async def test_disabling_or_resetting_a_user_ends_their_sessions(
    client: TestClient, engine: AsyncEngine
) -> None:
    """Resetting the password or disabling ends earlier sessions; a disabled user cannot sign in."""
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    assert (await sign_in(client, "cora", totp)).status == 303
    await accounts(engine).reset_password("cora", "another long password", by=BY)
    assert (await client.get("/api/incidents")).status == 401

    await accounts(engine).disable_user("cora", by=BY)
    assert (await submit_password(client, "cora", "another long password")).status == 401


async def test_failed_sign_ins_are_slowed_then_locked(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """After 3 failures each try waits 1, 2, 4 ... s (429, Retry-After); after 10 the name is
    locked for 15 minutes even with the right password; then it signs in."""
    clock = FakeClock()
    throttle = SignInThrottle(slow_after=3, lock_after=10, lock_seconds=900, clock=clock)
    totp, _ = await make_user(engine, "cora", Role.COMMISSIONER)
    async with api_client(
        engine, example_directory, tmp_path, keys=KEYS, sign_in_throttle=throttle
    ) as client:
        for _ in range(3):
            assert (await submit_password(client, "cora", "wrong guess")).status == 401
        slowed = await submit_password(client, "cora", PASSWORD)
        assert (slowed.status, slowed.headers["Retry-After"]) == (429, "1")
        assert "Too many failed sign-ins" in await slowed.text()

        for failures in range(3, 10):  # wait out each pause, then fail again
            clock.now += 2 ** (failures - 3)
            assert (await submit_password(client, "cora", "wrong guess")).status == 401
        locked = await submit_password(client, "cora", PASSWORD)
        assert (locked.status, locked.headers["Retry-After"]) == (429, "900")

        clock.now += 899
        assert (await submit_password(client, "cora", PASSWORD)).status == 429
        clock.now += 1
        assert (await sign_in(client, "cora", totp)).status == 303


async def test_failures_from_one_address_count_across_names(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> None:
    """Trying many names from one address is slowed like trying one name many times."""
    throttle = SignInThrottle(slow_after=3, clock=FakeClock())
    async with api_client(
        engine, example_directory, tmp_path, keys=KEYS, sign_in_throttle=throttle
    ) as client:
        for name in ("ann", "bob", "cat"):
            assert (await submit_password(client, name, "wrong guess")).status == 401
        assert (await submit_password(client, "dan", "wrong guess")).status == 429
