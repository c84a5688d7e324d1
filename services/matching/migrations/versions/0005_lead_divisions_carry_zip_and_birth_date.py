"""The lead–division index repeats each lead's ZIP and birth date.

Finding the people a new county race reaches probed lead_locations once per lead (30,000
random reads for Los Angeles among a million leads, most of the time it took); with the two
columns here it is one contiguous range of this index.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("lead_divisions") as batch:
        batch.add_column(sa.Column("postal_code", sa.String(5)))
        batch.add_column(sa.Column("birth_date", sa.Date))
    op.execute(
        "UPDATE lead_divisions SET"
        " postal_code = (SELECT l.postal_code FROM lead_locations l WHERE l.lead_id = lead_divisions.lead_id),"
        " birth_date = (SELECT l.birth_date FROM lead_locations l WHERE l.lead_id = lead_divisions.lead_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("lead_divisions") as batch:
        batch.drop_column("birth_date")
        batch.drop_column("postal_code")
