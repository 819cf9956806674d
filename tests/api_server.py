"""The real API app on a free port, with a running dispatcher writing to an outbox folder, for HTTP tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.settings import Settings
from broadcaster.delivery.runtime import running_dispatcher
from broadcaster.directory.practices import Directory
from broadcaster.web.api import make_app

if TYPE_CHECKING:  # imported for their types only, so these tests also run against main's api.py
    from broadcaster.accounts.server_keys import ServerKeys
    from broadcaster.accounts.sign_in_throttle import SignInThrottle
    from broadcaster.web.auth import FailedTokenLimiter

TOKEN = "api-token-S3CRET"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPEN = {"title": "Phones down", "message": "Call {alt_phone}.", "audience": {"ods": ["X99002"]}}


@contextlib.asynccontextmanager
async def api_client(
    engine: AsyncEngine,
    directory: Directory,
    tmp_path: Path,
    *,
    token: str | None = TOKEN,
    failed_tokens: FailedTokenLimiter | None = None,
    keys: ServerKeys | None = None,
    sign_in_throttle: SignInThrottle | None = None,
    settings: Settings | None = None,
) -> AsyncIterator[TestClient]:
    """An HTTP client for the real app, served by aiohttp's test server on 127.0.0.1."""
    settings = settings or Settings(
        outbox_dir=tmp_path / "outbox", api_token=None if token is None else SecretStr(token)
    )
    routes = {e.route for e in directory.every_endpoint()}  # a drill's routes too
    # Passed only when given, so the same tests can be run against the app before the token gate.
    given = {"failed_tokens": failed_tokens, "keys": keys, "sign_in_throttle": sign_in_throttle}
    limiter = {name: value for name, value in given.items() if value is not None}
    client: TestClient | None = None
    try:
        async with running_dispatcher(engine, settings, routes) as dispatcher:
            app = make_app(
                engine=engine, settings=settings, directory=directory, dispatcher=dispatcher, **limiter
            )
            client = TestClient(TestServer(app))
            await client.start_server()
            yield client
    finally:
        # The server closes after the dispatcher has stopped, as the aiohttp_client fixture does.
        if client is not None:
            await client.close()


async def raw_request(client: TestClient, request: bytes) -> tuple[int, bytes]:
    """Send `request` byte for byte (headers aiohttp's client would refuse to send); status and body."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(request)
        await writer.drain()
        reply = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body
