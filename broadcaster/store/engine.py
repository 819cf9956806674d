"""Open the database (SQLite by default, PostgreSQL for several nodes) and bring its schema up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from broadcaster.errors import ConfigError

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_engine(database_url: str) -> AsyncEngine:
    if database_url.startswith("sqlite"):
        _ensure_sqlite_folder(database_url)
        engine = create_async_engine(database_url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
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
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending Alembic migration; a fresh database gets the whole schema."""

    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)
