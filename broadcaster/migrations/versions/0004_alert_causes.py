"""alert causes: the incident each monitored cause opened

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_causes",
        sa.Column("cause_key", sa.String(length=400), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("episode", sa.String(length=200), server_default=sa.text("''"), nullable=False),
        sa.Column("digest", sa.String(length=200), server_default=sa.text("''"), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_alert_causes_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("cause_key", name=op.f("pk_alert_causes")),
    )


def downgrade() -> None:
    op.drop_table("alert_causes")
