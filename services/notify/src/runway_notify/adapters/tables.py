"""Notify's tables (notify's own database)."""

from __future__ import annotations

import sqlalchemy as sa

from runway_eventbus.tables import inbox_table, outbox_table
from runway_storage import UtcDateTime

metadata = sa.MetaData()

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("lead_id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(320), index=True),
    sa.Column("phone", sa.String(20), index=True),
    sa.Column("first_name", sa.String(200)),
    sa.Column("last_name", sa.String(200)),
    sa.Column("postal_code", sa.String(5)),
    sa.Column("time_zone", sa.String(64)),  # IANA name from the ZIP; None when unknown
    sa.Column("email_consent", sa.JSON),
    sa.Column("sms_consent", sa.JSON),
    # Set when intake merged this lead into another: its messages go to the survivor.
    sa.Column("merged_into", sa.String(36)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# One row per message on one channel. The unique key is what makes "never twice" hold.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("notification_key", sa.String(300), nullable=False, unique=True),
    sa.Column("message_type", sa.String(50), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("lead_id", sa.String(36), index=True),
    sa.Column("recipient", sa.String(320), nullable=False, index=True),
    sa.Column("transactional", sa.Boolean, nullable=False),
    sa.Column("context", sa.JSON, nullable=False),  # what the template is rendered with, at send time
    # queued → sending → sent (→ delivered for SMS) | failed | skipped
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),  # not before (quiet hours, backoff)
    sa.Column("lease_until", sa.DateTime(timezone=True)),  # a dispatcher holds it until then
    sa.Column("claim_token", sa.String(36)),
    sa.Column("message_id", sa.String(200)),  # RFC 5322 Message-ID, stable across attempts
    sa.Column("provider_message_id", sa.String(64), index=True),  # the SMS provider's id
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Index("ix_deliveries_due", "status", "due_at"),
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(36), nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("route", sa.String(30), nullable=False),  # primary, fallback, sms, provider-callback
    sa.Column("outcome", sa.String(20), nullable=False),  # accepted, deferred, retry, failed, delivered
    sa.Column("detail", sa.Text),
)

# Addresses nothing is sent to on a channel: hard bounces, invalid numbers, SMS STOP.
suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("channel", sa.String(10), primary_key=True),
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("reason", sa.String(50), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Marketing a person turned off: one message type, or "*" for all of them. Receipts still go.
opt_outs = sa.Table(
    "opt_outs",
    metadata,
    sa.Column("channel", sa.String(10), primary_key=True),
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("message_type", sa.String(50), primary_key=True),
    sa.Column("source", sa.String(50), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# New-race notices waiting for the person's daily digest.
digest_items = sa.Table(
    "digest_items",
    metadata,
    sa.Column("lead_id", sa.String(36), primary_key=True),
    sa.Column("race_id", sa.String(100), primary_key=True),
    sa.Column("digest_date", sa.Date, nullable=False),
    sa.Column("race", sa.JSON, nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_digest_items_day", "lead_id", "digest_date"),
)

# Events about a lead that arrived before the lead's contact details (service_layer/awaiting.py).
# Their inbox row is written: each is handled once, when the contact is written.
awaiting_contact = sa.Table(
    "awaiting_contact",
    metadata,
    sa.Column("consumer", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("lead_id", sa.String(36), nullable=False, index=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("event", sa.JSON, nullable=False),
    sa.Column("trace", sa.JSON, nullable=False),  # W3C trace context: the send continues its trace
    sa.Column("received_at", UtcDateTime(), nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
