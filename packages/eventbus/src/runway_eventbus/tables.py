"""The outbox and inbox tables. Each service creates them in its own database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

# BIGINT autoincrement on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
_Sequence = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UNPUBLISHED = {
    "sqlite_where": sa.text("published_at IS NULL"),
    "postgresql_where": sa.text("published_at IS NULL"),
}


def _outbox_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("seq", _Sequence, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    ]


def _inbox_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    ]


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    table = sa.Table("outbox", metadata, *_outbox_columns())
    sa.Index("ix_outbox_unpublished", table.c.seq, **_UNPUBLISHED)
    return table


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table("inbox", metadata, *_inbox_columns())


def create_eventbus_tables(op: Any) -> None:
    """Alembic helper: create both tables in a service's first migration."""
    op.create_table("outbox", *_outbox_columns())
    op.create_index("ix_outbox_unpublished", "outbox", ["seq"], **_UNPUBLISHED)
    op.create_table("inbox", *_inbox_columns())


def drop_eventbus_tables(op: Any) -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
