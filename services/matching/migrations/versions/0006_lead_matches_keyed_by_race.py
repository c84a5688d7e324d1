"""lead_matches keyed by (race, lead) instead of (lead, race) with an index by race.

A new county race adds tens of thousands of matches for one race: under a key that starts
with the race they land side by side; under one that starts with the lead each landed on a
different page of a ten-million-row index (2.8 s of random page writes for Los Angeles).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def _create(name: str, key: tuple[str, str]) -> None:
    op.create_table(
        name,
        sa.Column("race_id", sa.String(64), nullable=False),
        sa.Column("lead_id", sa.String(36), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint(*key, name=f"pk_{name}_{key[0]}"),
    )
    op.execute(
        f"INSERT INTO {name} (race_id, lead_id, matched_at, reminded)"
        " SELECT race_id, lead_id, matched_at, reminded FROM lead_matches"
    )
    op.drop_table("lead_matches")
    op.rename_table(name, "lead_matches")


def upgrade() -> None:
    _create("lead_matches_by_race", ("race_id", "lead_id"))


def downgrade() -> None:
    _create("lead_matches_by_lead", ("lead_id", "race_id"))
    op.create_index("ix_lead_matches_race", "lead_matches", ["race_id"])
