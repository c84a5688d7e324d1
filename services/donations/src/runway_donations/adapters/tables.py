"""Donations' tables (donations' own database). The ledger is append-only."""

from __future__ import annotations

import sqlalchemy as sa

from runway_eventbus.tables import inbox_table, outbox_table

metadata = sa.MetaData()

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("provider_event_id", sa.String(200), nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # processed, ignored
    sa.UniqueConstraint("provider", "provider_event_id", name="uq_webhook_events_provider_event"),
)

donors = sa.Table(
    "donors",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("provider_customer_id", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320)),
    sa.Column("name", sa.String(300)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("provider", "provider_customer_id", name="uq_donors_provider_customer"),
)

contributions = sa.Table(
    "contributions",
    metadata,
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

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "contribution_id", sa.String(36), sa.ForeignKey("contributions.id"), nullable=False, index=True
    ),
    sa.Column("donor_id", sa.String(36), sa.ForeignKey("donors.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # contribution, refund, dispute
    sa.Column("amount_cents", sa.BigInteger, nullable=False),  # signed: refunds are negative
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("source_event_id", sa.String(36), sa.ForeignKey("webhook_events.id"), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
