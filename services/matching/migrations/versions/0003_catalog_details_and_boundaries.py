"""Positions' eligibility and filing details, race types, filing time zones, when a race was
last written, the catalog's revision, imported boundaries; reminders no longer copy the race.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("term_years", sa.Integer))
        batch.add_column(sa.Column("salary", sa.String(100)))
        batch.add_column(sa.Column("must_be_resident", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(
            sa.Column("must_be_registered_voter", sa.Boolean, nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("filing_fee_cents", sa.Integer))
        batch.add_column(sa.Column("filing_office", sa.String(300)))
        batch.add_column(sa.Column("paperwork_notes", sa.Text))
    with op.batch_alter_table("races") as batch:
        batch.add_column(sa.Column("race_type", sa.String(10), nullable=False, server_default="general"))
        batch.add_column(sa.Column("unexpired_term", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("candidates_filed", sa.Integer))
        batch.add_column(sa.Column("filing_time_zone", sa.String(64)))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True)))
    # A reminder shows the race as it is when it goes out, not a copy taken at matching time
    # (and reverse matching schedules thousands of them in one INSERT … SELECT).
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("race")
    revision_table = op.create_table(
        "catalog_revision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(revision_table, [{"id": 1, "revision": 0}])
    op.create_table(
        "boundaries",
        sa.Column("ocd_id", sa.String(300), primary_key=True),
        sa.Column("geometry", sa.LargeBinary, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("race", sa.JSON, nullable=False, server_default="{}"))
    op.drop_table("boundaries")
    op.drop_table("catalog_revision")
    with op.batch_alter_table("races") as batch:
        for column in ("updated_at", "filing_time_zone", "candidates_filed", "unexpired_term", "race_type"):
            batch.drop_column(column)
    with op.batch_alter_table("positions") as batch:
        for column in (
            "paperwork_notes",
            "filing_office",
            "filing_fee_cents",
            "must_be_registered_voter",
            "must_be_resident",
            "salary",
            "term_years",
        ):
            batch.drop_column(column)
