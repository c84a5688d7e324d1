"""Matching's tables (matching's own database)."""

from __future__ import annotations

import sqlalchemy as sa

from runway_eventbus.tables import inbox_table, outbox_table
from runway_storage import UtcDateTime

metadata = sa.MetaData()

elections = sa.Table(
    "elections",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("election_date", sa.Date, nullable=False),
    sa.Column("jurisdiction_id", sa.String(300), nullable=False),
    sa.Column("source", sa.String(50), nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.UniqueConstraint("source", "source_id"),
)

positions = sa.Table(
    "positions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("level", sa.String(20), nullable=False),
    sa.Column("office_type", sa.String(50), nullable=False),
    sa.Column("division_id", sa.String(300), nullable=False, index=True),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("partisan", sa.Boolean, nullable=False),
    sa.Column("minimum_age", sa.Integer),
    sa.Column("term_years", sa.Integer),
    sa.Column("salary", sa.String(100)),  # as published: "$12,000 a year", "unpaid"
    sa.Column("must_be_resident", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("must_be_registered_voter", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("filing_fee_cents", sa.Integer),
    sa.Column("filing_office", sa.String(300)),
    sa.Column("paperwork_notes", sa.Text),
    sa.Column("source", sa.String(50), nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.UniqueConstraint("source", "source_id"),
)

races = sa.Table(
    "races",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("position_id", sa.String(64), sa.ForeignKey("positions.id"), nullable=False),
    sa.Column("election_id", sa.String(64), sa.ForeignKey("elections.id"), nullable=False),
    sa.Column("division_id", sa.String(300), nullable=False, index=True),
    sa.Column("seats_up", sa.Integer, nullable=False),
    sa.Column("race_type", sa.String(10), nullable=False, server_default="general"),
    sa.Column("unexpired_term", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("candidates_filed", sa.Integer),  # None: not known
    # The filing period: UTC instants, and the zone its local dates and times were given in.
    sa.Column("filing_opens", UtcDateTime),
    sa.Column("filing_closes", UtcDateTime),
    sa.Column("filing_time_zone", sa.String(64)),
    # When an import last wrote the race: with the count, the catalog's version (read models reload on change).
    sa.Column("updated_at", UtcDateTime),
    sa.Column("sample", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(50), nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.UniqueConstraint("source", "source_id"),
)

# Keyed by race first: a new race's matches are appended in one place of the key, not at
# 30,000 random places of a ten-million-row index (that was most of telling a county). Nothing
# reads it by lead alone: a lead's matches are races in the lead's divisions (see merge_leads).
lead_matches = sa.Table(
    "lead_matches",
    metadata,
    sa.Column("race_id", sa.String(64), primary_key=True),
    sa.Column("lead_id", sa.String(36), primary_key=True),
    sa.Column("matched_at", UtcDateTime, nullable=False),
    # Whether the person gets this race's deadline reminders (their top races and every race
    # that reached them on its own; not the rest of a long list).
    sa.Column("reminded", sa.Boolean, nullable=False, server_default=sa.false()),
)

lead_locations = sa.Table(
    "lead_locations",
    metadata,
    sa.Column("lead_id", sa.String(36), primary_key=True),
    sa.Column("postal_code", sa.String(5)),
    sa.Column("division_ids", sa.JSON, nullable=False),
    sa.Column("birth_date", sa.Date),
    sa.Column("interests", sa.JSON, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Which leads live in which division: the index reverse matching reads (no scan of leads).
# Each row repeats the lead's ZIP and birth date, so the people a race reaches, and who is
# old enough, are one contiguous range of this table (no probe per lead into lead_locations).
lead_divisions = sa.Table(
    "lead_divisions",
    metadata,
    sa.Column("division_id", sa.String(300), primary_key=True),
    sa.Column("lead_id", sa.String(36), primary_key=True),
    sa.Column("postal_code", sa.String(5)),
    sa.Column("birth_date", sa.Date),
    sa.Index("ix_lead_divisions_lead", "lead_id"),
)

# The persisted schedule of filing-deadline reminders: one row per race and offset; who hears
# one is read from lead_matches when it goes out.
race_reminders = sa.Table(
    "race_reminders",
    metadata,
    sa.Column("race_id", sa.String(64), primary_key=True),
    sa.Column("days_before", sa.Integer, primary_key=True),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # scheduled, sent, void
    sa.Column("sent_at", UtcDateTime),
    sa.Index("ix_race_reminders_due", "status", "due_at"),
)

# One row: bumped by every catalog write, in its transaction; in-memory copies reload when it moves.
catalog_revision = sa.Table(
    "catalog_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
)

# District boundaries imported from GeoJSON; a point inside one is an exact match.
boundaries = sa.Table(
    "boundaries",
    metadata,
    sa.Column("ocd_id", sa.String(300), primary_key=True),
    sa.Column("geometry", sa.LargeBinary, nullable=False),  # WKB, longitude/latitude (WGS 84)
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("imported_at", UtcDateTime, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
