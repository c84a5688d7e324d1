"""Reminders scheduled per race and offset, their recipients read from lead_matches when they
go out; lead_matches indexed by race.

A new county race reaching 30,000 people wrote 90,000 reminder rows in the same
transaction; now it writes three, and each lead's match row says whether they get
reminders.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("lead_matches") as batch:
        batch.add_column(sa.Column("reminded", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_lead_matches_race", "lead_matches", ["race_id"])
    op.execute(
        "UPDATE lead_matches SET reminded = TRUE WHERE EXISTS (SELECT 1 FROM reminders r"
        " WHERE r.lead_id = lead_matches.lead_id AND r.race_id = lead_matches.race_id)"
    )
    op.create_table(
        "race_reminders",
        sa.Column("race_id", sa.String(64), primary_key=True),
        sa.Column("days_before", sa.Integer, primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_race_reminders_due", "race_reminders", ["status", "due_at"])
    # A race's offset still waits if anyone's reminder for it waits: better a second reminder
    # to someone who had it than none to someone who did not (sent ones stay sent).
    op.execute(
        "INSERT INTO race_reminders (race_id, days_before, due_at, status, sent_at)"
        " SELECT race_id, days_before, MIN(due_at),"
        " CASE WHEN SUM(CASE WHEN status = 'scheduled' THEN 1 ELSE 0 END) > 0 THEN 'scheduled'"
        " WHEN SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) > 0 THEN 'sent' ELSE 'void' END,"
        " MAX(sent_at) FROM reminders GROUP BY race_id, days_before"
    )
    op.drop_table("reminders")


def downgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Column("race_id", sa.String(64), primary_key=True),
        sa.Column("days_before", sa.Integer, primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Index("ix_reminders_due", "status", "due_at"),
    )
    op.execute(
        "INSERT INTO reminders (lead_id, race_id, days_before, due_at, status, sent_at)"
        " SELECT m.lead_id, r.race_id, r.days_before, r.due_at, r.status, r.sent_at"
        " FROM race_reminders r JOIN lead_matches m ON m.race_id = r.race_id AND m.reminded"
    )
    op.drop_table("race_reminders")
    op.drop_index("ix_lead_matches_race", "lead_matches")
    with op.batch_alter_table("lead_matches") as batch:
        batch.drop_column("reminded")
