"""Intake's tables (intake's own database; no other service reads them)."""

from __future__ import annotations

import sqlalchemy as sa

from runway_eventbus.tables import inbox_table, outbox_table

metadata = sa.MetaData()

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # Unique constraints, not table scans, decide "same person" under concurrency.
    sa.Column("email", sa.String(320), nullable=True),
    # Identity key: the whole address case-folded (providers treat local parts case-insensitively).
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

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("form_key", sa.String(100), nullable=False, index=True),
    sa.Column("lead_id", sa.String(36), sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("ip", sa.String(64)),
    sa.Column("user_agent", sa.String(500)),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
