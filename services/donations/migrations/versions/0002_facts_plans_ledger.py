"""Donations modelled as facts: donors by person (linked to leads), plans, payments, refunds, disputes.

Revision ID: 0002
Revises: 0001

Nothing was deployed with 0001's donors/contributions/ledger (built from
invoice.paid only), so they are replaced rather than converted. The raw
webhook events are kept: `runway-donations reprocess --all` rebuilds every
table below from them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_table("contributions")
    op.drop_table("donors")
    op.add_column("webhook_events", sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("webhook_events", sa.Column("error", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        op.alter_column(
            "webhook_events", "provider_event_id", type_=sa.String(300), existing_type=sa.String(200)
        )
    op.execute("UPDATE webhook_events SET status = 'received'")
    op.create_table(
        "donors",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("donor_key", sa.String(length=400), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("street", sa.String(length=300), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("employer", sa.String(length=300), nullable=True),
        sa.Column("occupation", sa.String(length=300), nullable=True),
        sa.Column("profile_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phone_key", sa.String(length=40), nullable=True),
        sa.Column("lead_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("donor_key"),
    )
    op.create_index(op.f("ix_donors_lead_id"), "donors", ["lead_id"], unique=False)
    op.create_index(op.f("ix_donors_phone_key"), "donors", ["phone_key"], unique=False)
    op.create_table(
        "lead_contacts",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("lead_id", sa.String(length=36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value"),
    )
    op.create_index(op.f("ix_lead_contacts_lead_id"), "lead_contacts", ["lead_id"], unique=False)
    op.create_table(
        "donor_refs",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("customer_ref", sa.String(length=200), nullable=False),
        sa.Column("donor_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_id"],
            ["donors.id"],
        ),
        sa.PrimaryKeyConstraint("provider", "customer_ref"),
    )
    op.create_table(
        "contributions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("payment_ref", sa.String(length=200), nullable=False),
        sa.Column("donor_id", sa.String(length=36), nullable=False),
        sa.Column("plan_ref", sa.String(length=200), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refcode", sa.String(length=200), nullable=True),
        sa.Column("committee", sa.String(length=300), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_event_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_id"],
            ["donors.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "payment_ref", name="uq_contributions_provider_payment"),
    )
    op.create_index(op.f("ix_contributions_donor_id"), "contributions", ["donor_id"], unique=False)
    op.create_index("ix_contributions_paid_at", "contributions", ["paid_at"], unique=False)
    op.create_index("ix_contributions_plan", "contributions", ["provider", "plan_ref"], unique=False)
    op.create_table(
        "payment_aliases",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("payment_ref", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("provider", "alias"),
    )
    op.create_table(
        "payment_failures",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("payment_ref", sa.String(length=200), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("plan_ref", sa.String(length=200), nullable=True),
        sa.Column("donor_id", sa.String(length=36), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("retry_url", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_id"],
            ["donors.id"],
        ),
        sa.PrimaryKeyConstraint("provider", "payment_ref", "attempt"),
    )
    op.create_index("ix_payment_failures_plan", "payment_failures", ["provider", "plan_ref"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("refund_ref", sa.String(length=200), nullable=False),
        sa.Column("payment_ref", sa.String(length=200), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "refund_ref"),
    )
    op.create_table(
        "disputes",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("dispute_ref", sa.String(length=220), nullable=False),
        sa.Column("payment_ref", sa.String(length=200), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reversed", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "dispute_ref"),
    )
    op.create_table(
        "recurring_plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("plan_ref", sa.String(length=200), nullable=False),
        sa.Column("customer_ref", sa.String(length=200), nullable=True),
        sa.Column("report_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("report_currency", sa.String(length=3), nullable=True),
        sa.Column("report_interval", sa.String(length=10), nullable=True),
        sa.Column("report_status", sa.String(length=20), nullable=True),
        sa.Column("report_next_charge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_by", sa.String(length=20), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("interval", sa.String(length=10), nullable=True),
        sa.Column("failures_in_a_row", sa.Integer(), nullable=False),
        sa.Column("next_expected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "plan_ref", name="uq_recurring_plans_provider_plan"),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=220), nullable=False),
        sa.Column("payment_ref", sa.String(length=200), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_event_id", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "kind", "source_ref", name="uq_ledger_entries_source"),
    )
    op.create_index("ix_ledger_entries_effective_at", "ledger_entries", ["effective_at"], unique=False)
    op.create_index("ix_ledger_entries_payment", "ledger_entries", ["provider", "payment_ref"], unique=False)
    op.create_table(
        "notices",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=220), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "provider", "ref"),
    )


def downgrade() -> None:
    raise NotImplementedError("0002 replaced 0001's donation tables; restore from a backup instead")
