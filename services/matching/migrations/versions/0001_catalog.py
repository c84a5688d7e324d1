"""Race catalog, lead locations and matches, outbox/inbox.

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
        "elections",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("election_date", sa.Date, nullable=False),
        sa.Column("jurisdiction_id", sa.String(300), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.UniqueConstraint("source", "source_id"),
    )
    op.create_table(
        "positions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("office_type", sa.String(50), nullable=False),
        sa.Column("division_id", sa.String(300), nullable=False, index=True),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("partisan", sa.Boolean, nullable=False),
        sa.Column("minimum_age", sa.Integer),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.UniqueConstraint("source", "source_id"),
    )
    op.create_table(
        "races",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("position_id", sa.String(64), sa.ForeignKey("positions.id"), nullable=False),
        sa.Column("election_id", sa.String(64), sa.ForeignKey("elections.id"), nullable=False),
        sa.Column("division_id", sa.String(300), nullable=False, index=True),
        sa.Column("seats_up", sa.Integer, nullable=False),
        sa.Column("filing_opens", sa.DateTime(timezone=True)),
        sa.Column("filing_closes", sa.DateTime(timezone=True)),
        sa.Column("sample", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.UniqueConstraint("source", "source_id"),
    )
    op.create_table(
        "lead_matches",
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Column("race_id", sa.String(64), primary_key=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "lead_locations",
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Column("postal_code", sa.String(5)),
        sa.Column("division_ids", sa.JSON, nullable=False),
        sa.Column("birth_date", sa.Date),
        sa.Column("interests", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_eventbus_tables(op)


def downgrade() -> None:
    drop_eventbus_tables(op)
    for table in ("lead_locations", "lead_matches", "races", "positions", "elections"):
        op.drop_table(table)
