"""Raw webhook events, donors, contributions, the ledger, outbox/inbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from runway_eventbus.tables import create_eventbus_tables, drop_eventbus_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("provider_event_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.UniqueConstraint("provider", "provider_event_id", name="uq_webhook_events_provider_event"),
    )
    op.create_table(
        "donors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("provider_customer_id", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("name", sa.String(300)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("provider", "provider_customer_id", name="uq_donors_provider_customer"),
    )
    op.create_table(
        "contributions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("provider_payment_id", sa.String(200), nullable=False),
        sa.Column("donor_id", sa.String(36), sa.ForeignKey("donors.id"), nullable=False, index=True),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recurring_plan_ref", sa.String(200)),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("provider", "provider_payment_id", name="uq_contributions_provider_payment"),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "contribution_id", sa.String(36), sa.ForeignKey("contributions.id"), nullable=False, index=True
        ),
        sa.Column("donor_id", sa.String(36), sa.ForeignKey("donors.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("source_event_id", sa.String(36), sa.ForeignKey("webhook_events.id"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_eventbus_tables(op)


def downgrade() -> None:
    drop_eventbus_tables(op)
    for table in ("ledger_entries", "contributions", "donors", "webhook_events"):
        op.drop_table(table)
