"""Alembic environment: migrations run on the connection the store hands over (sync, via run_sync)."""

from __future__ import annotations

from alembic import context

from broadcaster.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through broadcaster.store.engine.migrate, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
