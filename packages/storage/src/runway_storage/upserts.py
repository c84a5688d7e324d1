"""Insert-if-absent and upsert that behave the same on SQLite and PostgreSQL.

Whether a row was inserted is read from RETURNING: with psycopg 3 the
rowcount of INSERT … ON CONFLICT DO NOTHING is not reliable (-1).

SQLAlchemy's dialect `insert()` constructs (the ones with `on_conflict_…`)
are not cacheable (`inherit_cache = False`), so each execution compiled the
statement anew: about half a millisecond, a large share of a small
transaction. The single-row forms here are written as typed text statements,
built once per table and column set; SQLAlchemy caches their compiled form and
still converts each value by its column's type.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from runway_storage.bulk import by_driver


def _insert(session: Session, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _insert_sql(dialect: Dialect, table: sa.Table, columns: tuple[str, ...]) -> str:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join(f":{c}" for c in columns)
    return f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES ({values})"


def _typed(sql: str, table: sa.Table, columns: tuple[str, ...]) -> sa.TextClause:
    return sa.text(sql).bindparams(*(sa.bindparam(c, type_=table.c[c].type) for c in columns))


@cache
def _insert_if_absent_statement(dialect: Dialect, table: sa.Table, columns: tuple[str, ...]) -> sa.TextClause:
    key = dialect.identifier_preparer.quote(next(iter(table.primary_key.columns)).name)
    sql = f"{_insert_sql(dialect, table, columns)} ON CONFLICT DO NOTHING RETURNING {key}"
    return _typed(sql, table, columns)


def insert_if_absent(session: Session, table: sa.Table, values: dict[str, Any]) -> bool:
    """True if the row was inserted, False if a unique key already held one."""
    statement = _insert_if_absent_statement(session.get_bind().dialect, table, tuple(values))
    return session.execute(statement, values).first() is not None


def insert_selected_if_absent(
    session: Session, table: sa.Table, columns: Sequence[str], rows: sa.Select[Any], returning: sa.Column[Any]
) -> list[Any]:
    """INSERT … SELECT in the database, skipping rows whose key is taken; `returning` of each
    row inserted. (On SQLite the SELECT needs a WHERE clause, or its join's ON would be read
    as the start of ON CONFLICT.)"""
    statement = (
        _insert(session, table).from_select(list(columns), rows).on_conflict_do_nothing().returning(returning)
    )
    return list(session.scalars(statement))


@cache
def _upsert_statement(
    dialect: Dialect, table: sa.Table, key: tuple[str, ...], columns: tuple[str, ...], unless_set: str | None
) -> sa.TextClause:
    conflict = _on_conflict_sql(dialect, table, key, columns, unless_set)
    returning = f" RETURNING {dialect.identifier_preparer.quote(key[0])}"
    return _typed(f"{_insert_sql(dialect, table, columns)} {conflict}{returning}", table, columns)


def _on_conflict_sql(
    dialect: Dialect, table: sa.Table, key: tuple[str, ...], columns: tuple[str, ...], unless_set: str | None
) -> str:
    quote = dialect.identifier_preparer.quote
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in key)
    conflict = f"ON CONFLICT ({', '.join(quote(k) for k in key)}) " + (
        f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    )
    if updates and unless_set:
        conflict += f" WHERE {dialect.identifier_preparer.format_table(table)}.{quote(unless_set)} IS NULL"
    return conflict


def upsert(
    session: Session,
    table: sa.Table,
    values: dict[str, Any],
    key: Sequence[str],
    *,
    unless_set: str | None = None,
) -> bool:
    """Insert, or update every given column but the key; True if a row was written.

    `unless_set`: a column that, when the stored row has a value in it, leaves
    that row as it is (and the answer False), decided in the same statement.
    """
    statement = _upsert_statement(session.get_bind().dialect, table, tuple(key), tuple(values), unless_set)
    return session.execute(statement, values).first() is not None


def upsert_many(
    session: Session, table: sa.Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> None:
    """`upsert` for many rows (with the same columns), in their order.

    By `upserted_keys`' cached statements: the dialect `insert().on_conflict_do_update()`
    this was written with cannot be cached, and compiling it anew took two thirds of the
    call's CPU for a batch of a few rows (lab, SQLite and PostgreSQL, 2026-11-30)."""
    upserted_keys(session, table, rows, key)


# Rows per multi-row INSERT: bounds the bind parameters of one statement (SQLite allows
# 32,766, PostgreSQL 65,535).
ROWS_PER_INSERT = 256
# The row counts a statement is made for. A chunk is padded up to the next one by
# repeating its last row (the copy finds its key taken and is skipped), so a table has a
# few statements, not one per row count: with one per count, a service's statements
# outgrew SQLAlchemy's compiled cache (500) and a sixth of notify's time went to compiling
# them again (py-spy, 2026-11-29). Steps of about 1.5 keep the padding under half a chunk.
ROW_COUNTS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, ROWS_PER_INSERT)


@lru_cache(maxsize=1024)
def _insert_rows_statement(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...], rows: int, returning: bool
) -> sa.TextClause | sa.TextualSelect:
    quote = dialect.identifier_preparer.quote
    key = list(table.primary_key.columns)
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(rows))
    sql = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES {values}"
    sql += " ON CONFLICT DO NOTHING"
    binds = (sa.bindparam(f"{c}_{i}", type_=table.c[c].type) for i in range(rows) for c in columns)
    statement = sa.text(sql + (f" RETURNING {', '.join(quote(k.name) for k in key)}" if returning else ""))
    statement = statement.bindparams(*binds)
    return statement.columns(*key) if returning else statement


def _insert_rows(
    session: Session, table: sa.Table, rows: Sequence[dict[str, Any]], *, returning: bool
) -> set[tuple[Any, ...]]:
    """Rows with the same columns, ROWS_PER_INSERT to a statement, keys already taken skipped.

    Written as text statements cached per row count: SQLAlchemy's dialect `insert()` with
    ON CONFLICT is compiled anew on every execution, which for a batch of 64 rows cost
    three times the CPU of sending them (psycopg, measured)."""
    inserted: set[tuple[Any, ...]] = set()
    if not rows:
        return inserted
    dialect = session.get_bind().dialect
    columns = tuple(sorted(rows[0]))  # rows built in another order share the statement
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = list(rows[start : start + ROWS_PER_INSERT])
        size = next(n for n in ROW_COUNTS if n >= len(chunk))
        chunk += [chunk[-1]] * (size - len(chunk))
        statement = _insert_rows_statement(dialect, table, columns, size, returning)
        result = session.execute(
            statement, {f"{c}_{i}": row[c] for i, row in enumerate(chunk) for c in columns}
        )
        if returning:
            inserted.update(result.tuples())
    return inserted


def insert_many_if_absent(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows (with the same columns), skipping those whose key is taken."""
    # Nothing to read back: on SQLite the driver's executemany takes the rows as they are,
    # a quarter of the CPU of binding every value of a multi-row statement through
    # SQLAlchemy (runway_storage.bulk).
    if not rows or by_driver(session, table, rows, skip_taken=True):
        return
    _insert_rows(session, table, rows, returning=False)


def inserted_keys(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """Insert many rows (with the same columns), skipping those whose key is taken; the
    primary keys of the rows inserted. Of rows sharing a key, one is inserted."""
    return _insert_rows(session, table, rows, returning=True)


@lru_cache(maxsize=256)
def _upsert_rows_statement(
    dialect: Dialect,
    table: sa.Table,
    key: tuple[str, ...],
    columns: tuple[str, ...],
    unless_set: str | None,
    rows: int,
) -> sa.TextualSelect:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(rows))
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) VALUES {values} "
        f"{_on_conflict_sql(dialect, table, key, columns, unless_set)} "
        f"RETURNING {', '.join(quote(k) for k in key)}"
    )
    binds = (sa.bindparam(f"{c}_{i}", type_=table.c[c].type) for i in range(rows) for c in columns)
    return sa.text(sql).bindparams(*binds).columns(*(table.c[k] for k in key))


def upserted_keys(
    session: Session,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    *,
    unless_set: str | None = None,
) -> set[tuple[Any, ...]]:
    """`upsert` for many rows (with the same columns), in their order; the keys of the rows
    written. A few statements, not one per row: each takes a run of rows with distinct keys
    (PostgreSQL updates a row once per statement, and a later row for a key must win), cut
    into the sizes of ROW_COUNTS so that a table has a few statements to cache."""
    written: set[tuple[Any, ...]] = set()
    if not rows:
        return written
    dialect = session.get_bind().dialect
    columns = tuple(sorted(rows[0]))
    runs: list[list[dict[str, Any]]] = [[]]
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        row_key = tuple(row[k] for k in key)
        if row_key in seen or len(runs[-1]) == ROWS_PER_INSERT:
            runs.append([])
            seen.clear()
        seen.add(row_key)
        runs[-1].append(row)
    for run in runs:
        while run:
            size = max(n for n in ROW_COUNTS if n <= len(run))
            chunk, run = run[:size], run[size:]
            statement = _upsert_rows_statement(dialect, table, tuple(key), columns, unless_set, size)
            values = {f"{c}_{i}": row[c] for i, row in enumerate(chunk) for c in columns}
            written.update(session.execute(statement, values).tuples())
    return written
