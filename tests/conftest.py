"""Fixtures shared by every test: clean structlog, an event-loop guard, a real SQLite store, and
the real HTTP app over the example practices (`client`, a file may define its own) with a
`monitor` token for the webhooks."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from aiohttp.test_utils import TestClient
from blockbuster import BlockBuster, blockbuster_ctx
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.accounts.permissions import Role
from broadcaster.config.shipped_files import example_directory_path
from broadcaster.directory.practices import Directory, load_directory
from broadcaster.store.engine import create_engine, migrate
from tests.accounts_helpers import bearer, make_token
from tests.api_server import api_client


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Each test starts from structlog's defaults (so capture_logs() sees every event) and
    leaves the standard library's root handlers as it found them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    yield
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


@pytest.fixture
def blockbuster() -> Iterator[BlockBuster]:
    """Fails the test if anything blocks the event loop (sync I/O, time.sleep) while it runs."""
    with blockbuster_ctx() as bb:
        yield bb


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Every async test body runs under blockbuster, watching the product's own code: a blocking
    call made from `broadcaster` or `channels` on the event loop fails the test. Fixtures' set-up
    is outside the watch; tests that ask for the `blockbuster` fixture watch every module."""
    function = getattr(item, "function", None)
    if not inspect.iscoroutinefunction(function) or "blockbuster" in getattr(item, "fixturenames", ()):
        return (yield)
    with blockbuster_ctx(["broadcaster", "channels"]):
        return (yield)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A real SQLite file in tmp_path, migrated to the current schema."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'broadcaster.db'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def example_directory() -> Directory:
    return load_directory(example_directory_path())


@pytest.fixture
async def client(
    engine: AsyncEngine, example_directory: Directory, tmp_path: Path
) -> AsyncIterator[TestClient]:
    """The real app on 127.0.0.1 with a dispatcher writing to tmp_path's outbox (tests.api_server)."""
    async with api_client(engine, example_directory, tmp_path) as client:
        yield client


@pytest.fixture
async def monitor(engine: AsyncEngine) -> dict[str, str]:
    """The Authorization header of a `monitor` token, as Alertmanager would send it."""
    return bearer(await make_token(engine, "prometheus", Role.MONITOR))
