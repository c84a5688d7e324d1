"""Events that wait in notify's database for their lead's contact, instead of being retried.

Revision ID: 0003
Revises: 0002

A `lead.matched` (or a reminder, a new race) that reached notify before the lead's
`lead.received` used to be retried through JetStream, spending its deliveries on waiting:
behind a backlog of lead events longer than its retry delays it was parked in the DLQ.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "awaiting_contact",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("lead_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("event", sa.JSON, nullable=False),
        sa.Column("trace", sa.JSON, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_awaiting_contact_lead_id", "awaiting_contact", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_awaiting_contact_lead_id", "awaiting_contact")
    op.drop_table("awaiting_contact")
