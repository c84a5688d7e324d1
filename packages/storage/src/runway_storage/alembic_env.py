"""The body of every service's migrations/env.py: migrate the connection we are given."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData


def run_migrations(target_metadata: MetaData | None = None) -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
