"""A store written by an earlier release upgrades in place with its incidents intact: each older
schema revision, holding an incident that has an update and a delivered message, migrated to
the current one (as `serve` or any command does on start), reads back as it was."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text

from broadcaster.core.models import DeliveryState, IncidentStatus
from broadcaster.incidents.queries import IncidentQueries, IncidentView
from broadcaster.store.engine import alembic_config, create_engine, migrate

# Only the columns every revision has had since 0001: what an earlier release wrote.
_ROWS = [
    "INSERT INTO incidents (id, title, severity, status, runbook, fields, audience, channels,"
    " created_by, created_at) VALUES (1, 'Phones down', 'major', 'investigating', NULL, '{}',"
    " '{\"ods\": [\"X99001\"]}', '[\"email\"]', 'cli', 1000.0)",
    "INSERT INTO updates (id, incident_id, seq, status, message, channels, author, created_at)"
    " VALUES (1, 1, 0, 'investigating', 'Call 0113 496 0000.', '[\"email\"]', 'cli', 1000.0)",
    "INSERT INTO deliveries (id, update_id, incident_id, seq, update_status, practice, channel,"
    " recipient, route, content, thread_key, state, next_attempt_at, deadline_at, created_at,"
    " updated_at, delivered_at) VALUES (1, 1, 1, 0, 'investigating', 'X99001', 'email',"
    " 'm@riverside.example', 'email/outbox', :content, 'INC-1|X99001|email|m@riverside.example',"
    " 'delivered', 1000.0, 2000.0, 1000.0, 1001.0, 1001.0)",
]


async def _upgrade_and_read(path: Path, revision: str) -> IncidentView:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:

        def write_old_store(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            content = json.dumps({"subject": "Phones down", "body": "Call 0113 496 0000."})
            for row in _ROWS:
                connection.execute(text(row), {"content": content})

        async with engine.begin() as connection:
            await connection.run_sync(write_old_store)
        await migrate(engine)  # what the next start of any command does
        return await IncidentQueries(engine).incident(1)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("revision", ["0001", "0002", "0003", "0004"])
def test_an_earlier_store_with_incidents_upgrades_in_place(revision: str, tmp_path: Path) -> None:
    """Synchronous, as a start-up is: migrating reads the migration files before serving."""
    found = asyncio.run(_upgrade_and_read(tmp_path / "old.db", revision))
    assert (found.ref, found.summary.status) == ("INC-1", IncidentStatus.INVESTIGATING)
    assert found.summary.sent
    assert not found.summary.exercise
    assert found.summary.draft is None
    (opening,) = found.updates
    assert opening.record.draft is None
    assert opening.deliveries == {DeliveryState.DELIVERED: 1}
