"""Lead-division index for reverse matching; the persisted reminder schedule.

Revision ID: 0002
Revises: 0001
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "lead_divisions",
        sa.Column("division_id", sa.String(300), primary_key=True),
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Index("ix_lead_divisions_lead", "lead_id"),
    )
    op.create_table(
        "reminders",
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Column("race_id", sa.String(64), primary_key=True),
        sa.Column("days_before", sa.Integer, primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("race", sa.JSON, nullable=False),  # the race as shown to this person
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Index("ix_reminders_due", "status", "due_at"),
    )
    # Leads matched before this revision: index their divisions from their stored location.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT lead_id, division_ids FROM lead_locations")).all()
    table = sa.table("lead_divisions", sa.column("division_id"), sa.column("lead_id"))
    for lead_id, division_ids in rows:
        ids = division_ids if isinstance(division_ids, list) else json.loads(division_ids or "[]")
        if ids:
            op.bulk_insert(table, [{"division_id": d, "lead_id": lead_id} for d in dict.fromkeys(ids)])


def downgrade() -> None:
    op.drop_table("reminders")
    op.drop_table("lead_divisions")
