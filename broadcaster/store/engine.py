"""Open the database (SQLite by default, PostgreSQL for several nodes) and bring its schema up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from broadcaster.core.errors import ConfigError
from broadcaster.store.transactions import WRITE_LOCK_OPTION, write_transaction

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_engine(database_url: str, *, busy_timeout_seconds: float = 10.0) -> AsyncEngine:
    """`busy_timeout_seconds`: how long a write waits for another process's write lock."""
    if database_url.startswith("sqlite"):
        _ensure_sqlite_folder(database_url)
        engine = create_async_engine(database_url, connect_args={"timeout": busy_timeout_seconds})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    if database_url.startswith(("postgresql+asyncpg", "postgresql")):
        url = database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    raise ConfigError(
        f"BROADCASTER_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql://; "
        f"got a URL starting {database_url.split(':', 1)[0]!r}"
    )


def _ensure_sqlite_folder(database_url: str) -> None:
    path = database_url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the CLI and a running server share the file; NORMAL is durable across app crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # The driver's own BEGIN is always deferred: switch it off and emit ours (_sqlite_begin).
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    # A write takes the lock before it reads (see store.transactions); reads stay deferred, so
    # they never wait for a writer.
    immediate = connection.get_execution_options().get(WRITE_LOCK_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending Alembic migration; a fresh database gets the whole schema.

    Several processes may start on one new database at once (a server and two command-line
    sends): the migration runs under the write lock (SQLite) or an advisory lock (PostgreSQL),
    and whoever gets it second finds the schema current and does nothing.
    """
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_revision)
    if current == head:  # the usual case: no lock taken
        return

    def upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('broadcaster-migrations'))"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with write_transaction(engine) as connection:
        await connection.run_sync(upgrade)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
