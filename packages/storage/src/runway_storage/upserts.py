"""Insert-if-absent and upsert that behave the same on SQLite and PostgreSQL.

Whether a row was inserted is read from RETURNING: with psycopg 3 the
rowcount of INSERT … ON CONFLICT DO NOTHING is not reliable (-1).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


@cache
def _insert_if_absent_statement(dialect: str, table: sa.Table) -> Any:
    # Built once: the values travel as parameters, so SQLAlchemy compiles it once.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = next(iter(table.primary_key.columns))
    return insert(table).on_conflict_do_nothing().returning(key)


def insert_if_absent(session: Session, table: sa.Table, values: dict[str, Any]) -> bool:
    """True if the row was inserted, False if a unique key already held one."""
    statement = _insert_if_absent_statement(session.get_bind().dialect.name, table)
    return session.execute(statement, values).first() is not None


def insert_many_if_absent(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(_insert(session, table).on_conflict_do_nothing(), list(rows))


def upsert(session: Session, table: sa.Table, values: dict[str, Any], key: Sequence[str]) -> None:
    statement = _insert(session, table).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=list(key), set_={k: v for k, v in values.items() if k not in key}
        )
    )
