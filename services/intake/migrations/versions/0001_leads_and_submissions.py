"""Leads, submissions, and the outbox/inbox.

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
        "leads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("email_key", sa.String(320), unique=True, nullable=True),
        sa.Column("phone", sa.String(20), unique=True, nullable=True),
        sa.Column("first_name", sa.String(200)),
        sa.Column("last_name", sa.String(200)),
        sa.Column("postal_code", sa.String(5)),
        sa.Column("birth_date", sa.Date),
        sa.Column("interests", sa.JSON, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("email_consent", sa.JSON),
        sa.Column("sms_consent", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("form_key", sa.String(100), nullable=False, index=True),
        sa.Column("lead_id", sa.String(36), sa.ForeignKey("leads.id"), nullable=False, index=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(500)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_eventbus_tables(op)


def downgrade() -> None:
    drop_eventbus_tables(op)
    op.drop_table("submissions")
    op.drop_table("leads")
