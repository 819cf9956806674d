"""Fixtures shared by every test: clean structlog, an event-loop guard, a real SQLite store."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from blockbuster import BlockBuster, blockbuster_ctx
from sqlalchemy.ext.asyncio import AsyncEngine

from broadcaster.config.shipped_files import example_directory_path
from broadcaster.directory.practices import Directory, load_directory
from broadcaster.store.engine import create_engine, migrate


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
