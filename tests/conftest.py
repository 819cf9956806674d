"""Fixtures shared by every test: a clean structlog, and a guard against blocking the event loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from blockbuster import BlockBuster, blockbuster_ctx


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """Each test starts from structlog's defaults, so capture_logs() sees every event."""
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    yield
    structlog.reset_defaults()


@pytest.fixture
def blockbuster() -> Iterator[BlockBuster]:
    """Fails the test if anything blocks the event loop (sync I/O, time.sleep) while it runs."""
    with blockbuster_ctx() as bb:
        yield bb
