"""incidents.exercise: a drill, sent only to test endpoints or the outbox and never public

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (see 0005): batch mode with a SQL-expression default rebuilt the table on
    # SQLite, which fails once deliveries refer to its rows. '0' is false to SQLite and PostgreSQL.
    op.add_column("incidents", sa.Column("exercise", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("exercise")
