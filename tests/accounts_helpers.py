"""Users, tokens and sign-in for HTTP tests: made with the real AccountService, signed in through
the real pages (a form's CSRF token read from the page, as a browser would send it back)."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pyotp
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.accounts.server_keys import ServerKeys
from broadcaster.accounts.service import AccountService
from broadcaster.incidents.service import Actor

SERVER_SECRET = "server-key-S3CRET-for-tests-0123456789abcdef"
KEYS = ServerKeys.from_secret(SERVER_SECRET)
PASSWORD = "correct horse battery S3CRET"
BY = Actor(name="test-setup", origin="cli@test", credential="cli")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    """Seconds that a test moves on by hand (monotonic or wall clock alike)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def accounts(engine: AsyncEngine) -> AccountService:
    return AccountService(engine=engine, keys=KEYS)


async def make_user(
    engine: AsyncEngine, name: str, role: Role, ods: tuple[str, ...] = (), password: str = PASSWORD
) -> tuple[pyotp.TOTP, list[str]]:
    """The user's authenticator (from the URI shown once) and recovery codes."""
    setup = await accounts(engine).add_user(name=name, role=role, ods_codes=ods, password=password, by=BY)
    return totp_of(setup.provisioning_uri), setup.recovery_codes


def totp_of(uri: str) -> pyotp.TOTP:
    (secret,) = parse_qs(urlparse(uri).query)["secret"]
    return pyotp.TOTP(secret)


async def make_token(engine: AsyncEngine, name: str, role: Role, ods: tuple[str, ...] = ()) -> str:
    return await accounts(engine).add_token(name=name, role=role, ods_codes=ods, by=BY)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def csrf_of(client: TestClient, path: str) -> str:
    page = await client.get(path)
    assert page.status == 200, path
    found = _CSRF.search(await page.text())
    assert found is not None, f"no CSRF field on {path}"
    return found.group(1)


async def submit_password(client: TestClient, name: str, password: str) -> ClientResponse:
    csrf = await csrf_of(client, "/login")
    form = {"csrf_token": csrf, "name": name, "password": password}
    return await client.post("/login", data=form, allow_redirects=False)


async def submit_code(client: TestClient, code: str) -> ClientResponse:
    csrf = await csrf_of(client, "/login/code")
    return await client.post("/login/code", data={"csrf_token": csrf, "code": code}, allow_redirects=False)


async def sign_in(
    client: TestClient, name: str, totp: pyotp.TOTP, *, password: str = PASSWORD, at: float | None = None
) -> ClientResponse:
    """Password, then the current TOTP code (for `at`, default now); the final response."""
    first = await submit_password(client, name, password)
    assert first.status == 303, await first.text()
    return await submit_code(client, totp.at(at if at is not None else time.time()))
