"""Form registry, fuller canonical lead, merges, exact lead count, idempotency keys.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

NEW_LEAD_COLUMNS = [
    sa.Column("street", sa.String(300)),
    sa.Column("city", sa.String(100)),
    sa.Column("state", sa.String(2)),
    sa.Column("age", sa.Integer),
    sa.Column("source", sa.String(100)),
    sa.Column("refcode", sa.String(100)),
    sa.Column("utm", sa.JSON),
    sa.Column("custom_fields", sa.JSON),
    sa.Column("first_form_key", sa.String(100)),
]
BUILT_IN_FORM = {
    "mapping": {
        name: name
        for name in (
            "first_name",
            "last_name",
            "email",
            "phone",
            "zip",
            "birth_date",
            "interests",
            "tags",
            "street",
            "city",
            "state",
            "refcode",
            "utm_source",
            "utm_medium",
            "utm_campaign",
        )
    }
    | {"email_consent": "consent.email", "sms_consent": "consent.sms", "consent_wording": "consent.wording"},
    "value_maps": {},
    "default_tags": [],
    "default_source": "runway",
    "default_refcode": None,
    "consent_wording": None,
    "allowed_origins": [],
    "auth": "none",
    "thank_you_url": None,
    "honeypot_field": "website",
}


def upgrade() -> None:
    forms = op.create_table(
        "forms",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(200)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("leads") as batch:
        for column in NEW_LEAD_COLUMNS:
            batch.add_column(column)
        batch.create_index("ix_leads_created_at", ["created_at"])
        batch.create_index("ix_leads_first_form_key", ["first_form_key"])
    identities = op.create_table(
        "lead_identities",
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column("lead_id", sa.String(36), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    bind = op.get_bind()
    for kind, column in (("email", "email_key"), ("phone", "phone")):
        bind.execute(
            identities.insert().from_select(
                ["kind", "value", "lead_id", "created_at"],
                sa.select(sa.literal(kind), sa.column(column), sa.column("id"), sa.column("created_at"))
                .select_from(sa.table("leads", sa.column(column), sa.column("id"), sa.column("created_at")))
                .where(sa.column(column).isnot(None)),
            )
        )
    op.create_table(
        "lead_merges",
        sa.Column("absorbed_id", sa.String(36), primary_key=True),
        sa.Column("survivor_id", sa.String(36), nullable=False, index=True),
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
    )
    shards = op.create_table(
        "lead_count_shards",
        sa.Column("shard", sa.Integer, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    existing = op.get_bind().execute(sa.text("SELECT count(*) FROM leads")).scalar() or 0
    op.bulk_insert(shards, [{"shard": i, "count": existing if i == 0 else 0} for i in range(16)])
    op.create_table(
        "idempotency_keys",
        sa.Column("form_key", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    now = sa.func.now()
    op.get_bind().execute(
        forms.insert().values(
            key="signup",
            name="Runway sign-up",
            owner="runway",
            settings=BUILT_IN_FORM,
            secret=None,
            active=True,
            created_at=now,
            updated_at=now,
        )
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("lead_count_shards")
    op.drop_table("lead_merges")
    op.drop_table("lead_identities")
    with op.batch_alter_table("leads") as batch:
        batch.drop_index("ix_leads_first_form_key")
        batch.drop_index("ix_leads_created_at")
        for column in NEW_LEAD_COLUMNS:
            batch.drop_column(column.name)
    op.drop_table("forms")
