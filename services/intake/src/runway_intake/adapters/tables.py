"""Intake's tables (intake's own database; no other service reads them)."""

from __future__ import annotations

import sqlalchemy as sa

from runway_eventbus.tables import inbox_table, outbox_table

metadata = sa.MetaData()

forms = sa.Table(
    "forms",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),  # mapping, value maps, defaults, origins, auth
    sa.Column("secret", sa.String(200)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(320), nullable=True),
    # Unique constraints, not table scans, decide "same person" under concurrency.
    # The identity key is the whole address case-folded (see docs/decisions/0004).
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
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("street", sa.String(300)),
    sa.Column("city", sa.String(100)),
    sa.Column("state", sa.String(2)),
    sa.Column("age", sa.Integer),
    sa.Column("source", sa.String(100)),
    sa.Column("refcode", sa.String(100)),
    sa.Column("utm", sa.JSON),
    sa.Column("custom_fields", sa.JSON),
    sa.Column("first_form_key", sa.String(100), index=True),
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

# Every email key and phone a person ever used, each owned by exactly one lead.
# Lookups and merges go through here, so an address a merged lead brought along
# keeps pointing at the survivor.
lead_identities = sa.Table(
    "lead_identities",
    metadata,
    sa.Column("kind", sa.String(10), primary_key=True),  # email, phone
    sa.Column("value", sa.String(320), primary_key=True),
    sa.Column("lead_id", sa.String(36), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

lead_merges = sa.Table(
    "lead_merges",
    metadata,
    sa.Column("absorbed_id", sa.String(36), primary_key=True),
    sa.Column("survivor_id", sa.String(36), nullable=False, index=True),
    sa.Column("submission_id", sa.String(36), nullable=False),
    sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
)

# The exact unique-lead count, kept incrementally. Spread over shards so that
# concurrent transactions do not all queue on one row; the count is their sum.
lead_count_shards = sa.Table(
    "lead_count_shards",
    metadata,
    sa.Column("shard", sa.Integer, primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
)
COUNT_SHARDS = 16

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("form_key", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
