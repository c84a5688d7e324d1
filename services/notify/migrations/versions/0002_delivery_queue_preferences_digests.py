"""A persisted delivery queue, attempts, opt-outs per message type, digests, time zones, merges.

Revision ID: 0002
Revises: 0001

0001's `deliveries` was a log of sends made inline by the consumers; it is
replaced by the queue (no delivery state outside development existed). Opt-outs
that 0001 kept as suppressions move to `opt_outs`, so a receipt still reaches
someone who unsubscribed from marketing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

OPT_OUT_SOURCES = ("one_click", "unsubscribe_page", "preference_page")


def upgrade() -> None:
    op.drop_table("deliveries")
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("notification_key", sa.String(300), nullable=False, unique=True),
        sa.Column("message_type", sa.String(50), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("lead_id", sa.String(36), index=True),
        sa.Column("recipient", sa.String(320), nullable=False, index=True),
        sa.Column("transactional", sa.Boolean, nullable=False),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("claim_token", sa.String(36)),
        sa.Column("message_id", sa.String(200)),
        sa.Column("provider_message_id", sa.String(64), index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Index("ix_deliveries_due", "status", "due_at"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(36), nullable=False, index=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("route", sa.String(30), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_table(
        "opt_outs",
        sa.Column("channel", sa.String(10), primary_key=True),
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("message_type", sa.String(50), primary_key=True),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "digest_items",
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Column("race_id", sa.String(100), primary_key=True),
        sa.Column("digest_date", sa.Date, nullable=False),
        sa.Column("race", sa.JSON, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_digest_items_day", "lead_id", "digest_date"),
    )
    sources = ", ".join(f"'{s}'" for s in OPT_OUT_SOURCES)
    op.execute(
        "INSERT INTO opt_outs (channel, address, message_type, source, created_at) "
        f"SELECT channel, address, '*', reason, created_at FROM suppressions WHERE reason IN ({sources})"
    )
    op.execute(f"DELETE FROM suppressions WHERE reason IN ({sources})")
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(64)))
        batch.add_column(sa.Column("merged_into", sa.String(36)))
        batch.create_index("ix_contacts_email", ["email"])
        batch.create_index("ix_contacts_phone", ["phone"])


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_phone")
        batch.drop_index("ix_contacts_email")
        batch.drop_column("merged_into")
        batch.drop_column("time_zone")
    for table in ("digest_items", "opt_outs", "delivery_attempts", "deliveries"):
        op.drop_table(table)
    op.create_table(  # 0001's shape; the queue's rows do not fit it and are not kept
        "deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("notification_key", sa.String(300), nullable=False, unique=True),
        sa.Column("message_type", sa.String(50), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("lead_id", sa.String(36), index=True),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(200)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
