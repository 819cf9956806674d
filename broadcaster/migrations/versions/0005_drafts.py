"""Drafts: an incident or update a monitor raised for a person to confirm before it is sent

incidents.waiting_draft_seq: the update waiting for a person (none: nothing waits);
incidents.sent: false while its first message has not gone out (a draft waiting, or discarded).
updates.draft: waiting | confirmed | discarded (none: written to be sent at once), with when it
was drafted and who decided it, when; updates.draft_fields: the runbook values a drafted update
gives the incident once it is confirmed (none: it changes none).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: a SQL-expression default would make batch mode rebuild
    # the table on SQLite, and dropping `incidents` fails on the rows that refer to it. The
    # default is the string '1', which both SQLite and PostgreSQL read as true.
    op.add_column("incidents", sa.Column("waiting_draft_seq", sa.Integer(), nullable=True))
    op.add_column("incidents", sa.Column("sent", sa.Boolean(), server_default="1", nullable=False))
    op.add_column("updates", sa.Column("draft", sa.String(length=16), nullable=True))
    op.add_column("updates", sa.Column("drafted_at", sa.Float(), nullable=True))
    op.add_column("updates", sa.Column("decided_by", sa.String(length=200), nullable=True))
    op.add_column("updates", sa.Column("decided_at", sa.Float(), nullable=True))
    op.add_column("updates", sa.Column("draft_fields", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("updates") as batch:
        for name in ("draft_fields", "decided_at", "decided_by", "drafted_at", "draft"):
            batch.drop_column(name)
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("sent")
        batch.drop_column("waiting_draft_seq")
