"""Donations' tables (donations' own database).

Each fact a provider tells us lives in its own table under the provider's
identity for it (stored once, whatever the order or the repeats); plans and
donors are derived from those facts; the ledger is append-only, in integer
cents, one entry per money movement.
"""

from __future__ import annotations

import sqlalchemy as sa

from runway_eventbus.tables import inbox_table, outbox_table

metadata = sa.MetaData()
When = sa.DateTime(timezone=True)

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("provider_event_id", sa.String(300), nullable=False),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("received_at", When, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # received, processed, ignored, failed
    sa.Column("processed_at", When),
    sa.Column("error", sa.Text),
    sa.UniqueConstraint("provider", "provider_event_id", name="uq_webhook_events_provider_event"),
)

donors = sa.Table(
    "donors",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("donor_key", sa.String(400), nullable=False, unique=True),  # email:<casefolded> or provider:ref
    sa.Column("email", sa.String(320)),
    sa.Column("phone", sa.String(40)),
    sa.Column("first_name", sa.String(200)),
    sa.Column("last_name", sa.String(200)),
    sa.Column("street", sa.String(300)),
    sa.Column("city", sa.String(200)),
    sa.Column("state", sa.String(100)),
    sa.Column("postal_code", sa.String(20)),
    sa.Column("country", sa.String(100)),
    sa.Column("employer", sa.String(300)),
    sa.Column("occupation", sa.String(300)),
    sa.Column("profile_as_of", When),
    sa.Column("phone_key", sa.String(40), index=True),  # E.164, to find the person's lead
    sa.Column("lead_id", sa.String(36), index=True),
    sa.Column("created_at", When, nullable=False),
)

lead_contacts = sa.Table(  # intake's leads as donations needs them: email or phone → lead
    "lead_contacts",
    metadata,
    sa.Column("kind", sa.String(10), primary_key=True),  # email, phone
    sa.Column("value", sa.String(320), primary_key=True),
    sa.Column("lead_id", sa.String(36), nullable=False, index=True),
    sa.Column("updated_at", When, nullable=False),
)

donor_refs = sa.Table(
    "donor_refs",
    metadata,
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("customer_ref", sa.String(200), primary_key=True),
    sa.Column("donor_id", sa.String(36), sa.ForeignKey("donors.id"), nullable=False),
)

contributions = sa.Table(
    "contributions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("payment_ref", sa.String(200), nullable=False),
    sa.Column("donor_id", sa.String(36), sa.ForeignKey("donors.id"), nullable=False, index=True),
    sa.Column("plan_ref", sa.String(200)),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("fee_cents", sa.BigInteger),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("refcode", sa.String(200)),
    sa.Column("committee", sa.String(300)),
    sa.Column("paid_at", When, nullable=False),
    sa.Column("source_event_id", sa.String(36), nullable=False),
    sa.UniqueConstraint("provider", "payment_ref", name="uq_contributions_provider_payment"),
    sa.Index("ix_contributions_plan", "provider", "plan_ref"),
    sa.Index("ix_contributions_paid_at", "paid_at"),
)

payment_aliases = sa.Table(  # a charge or payment intent → the payment it belongs to
    "payment_aliases",
    metadata,
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("alias", sa.String(200), primary_key=True),
    sa.Column("payment_ref", sa.String(200), nullable=False),
)

payment_failures = sa.Table(
    "payment_failures",
    metadata,
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("payment_ref", sa.String(200), primary_key=True),
    sa.Column("attempt", sa.Integer, primary_key=True),
    sa.Column("plan_ref", sa.String(200)),
    sa.Column("donor_id", sa.String(36), sa.ForeignKey("donors.id"), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("retry_url", sa.Text),
    sa.Column("next_attempt_at", When),
    sa.Column("failed_at", When, nullable=False),
    sa.Index("ix_payment_failures_plan", "provider", "plan_ref"),
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("refund_ref", sa.String(200), primary_key=True),
    sa.Column("payment_ref", sa.String(200), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("refunded_at", When, nullable=False),
)

disputes = sa.Table(
    "disputes",
    metadata,
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("dispute_ref", sa.String(220), primary_key=True),
    sa.Column("payment_ref", sa.String(200), nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("reversed", sa.Boolean, nullable=False),
    sa.Column("occurred_at", When, nullable=False),
)

recurring_plans = sa.Table(
    "recurring_plans",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("plan_ref", sa.String(200), nullable=False),
    sa.Column("customer_ref", sa.String(200)),
    # The provider's newest report of the plan (the newest `report_as_of` wins).
    sa.Column("report_amount_cents", sa.BigInteger),
    sa.Column("report_currency", sa.String(3)),
    sa.Column("report_interval", sa.String(10)),
    sa.Column("report_status", sa.String(20)),
    sa.Column("report_next_charge_at", When),
    sa.Column("report_as_of", When),
    # The earliest cancellation we were told of.
    sa.Column("canceled_at", When),
    sa.Column("canceled_by", sa.String(20)),
    sa.Column("cancel_reason", sa.Text),
    # Derived from all of the above and the plan's payments and failures.
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("amount_cents", sa.BigInteger),
    sa.Column("currency", sa.String(3)),
    sa.Column("interval", sa.String(10)),
    sa.Column("failures_in_a_row", sa.Integer, nullable=False),
    sa.Column("next_expected_at", When),
    sa.Column("started_at", When),
    sa.Column("ended_at", When),
    sa.UniqueConstraint("provider", "plan_ref", name="uq_recurring_plans_provider_plan"),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # contribution, refund, dispute, dispute_reversal
    sa.Column("source_ref", sa.String(220), nullable=False),  # the payment, refund or dispute
    sa.Column("payment_ref", sa.String(200), nullable=False),  # as the provider named it (maybe an alias)
    sa.Column("amount_cents", sa.BigInteger, nullable=False),  # signed: money back out is negative
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("effective_at", When, nullable=False),  # the provider's time, which reports go by
    sa.Column("source_event_id", sa.String(36), nullable=False),
    sa.Column("recorded_at", When, nullable=False),
    sa.UniqueConstraint("provider", "kind", "source_ref", name="uq_ledger_entries_source"),
    sa.Index("ix_ledger_entries_payment", "provider", "payment_ref"),
    sa.Index("ix_ledger_entries_effective_at", "effective_at"),
)

notices = sa.Table(  # events that must go out once per plan or refund, whichever fact came first
    "notices",
    metadata,
    sa.Column("kind", sa.String(30), primary_key=True),
    sa.Column("provider", sa.String(20), primary_key=True),
    sa.Column("ref", sa.String(220), primary_key=True),
    sa.Column("created_at", When, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
