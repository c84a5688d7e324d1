"""Plain multi-row INSERTs by the fastest path each driver has.

SQLAlchemy runs a many-row INSERT through its execution context, which builds
a parameter dict per row and runs every column's converter on it: for a batch
of sign-ups that is most of the time the writer holds SQLite's write lock.
Here the same converters (SQLite's stored date format, the JSON encoding) are
applied to plain tuples, once for a run of rows sharing one object (a batch's
creation time), and the rows go by the driver's cheapest path: SQLite's
`executemany` in one call; on PostgreSQL a COPY, whose rows psycopg writes in
C (its `executemany`, which SQLAlchemy uses there, handles each row's result
in Python: about ten times the client CPU for a batch of sign-ups' rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) into `table` in `session`'s transaction."""
    if rows and not by_driver(session, table, rows):
        session.execute(table.insert(), list(rows))


def by_driver(
    session: Session, table: sa.Table, rows: Sequence[dict[str, Any]], *, skip_taken: bool = False
) -> bool:
    """INSERT `rows` by the driver if it can write them (every row with the same columns,
    none left out that SQLAlchemy would fill with a default; on PostgreSQL, not
    `skip_taken`, which a COPY cannot do); whether it did."""
    connection = session.connection()
    dialect = connection.dialect.name
    columns = tuple(rows[0])
    if (
        dialect not in ("sqlite", "postgresql")
        or (dialect == "postgresql" and skip_taken)
        or _fills_defaults(table, columns)
        or any(len(row) != len(columns) for row in rows)
    ):
        return False
    tuples = [tuple(row[c] for c in columns) for row in rows]
    if dialect == "sqlite":
        insert_tuples(connection, table, columns, tuples, skip_taken=skip_taken)
    else:
        copy_tuples(connection, table, columns, tuples)
    return True


def insert_tuples(
    connection: Connection,
    table: sa.Table,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    skip_taken: bool = False,
) -> None:
    """SQLite: INSERT rows given as tuples in `columns` order, converted as SQLAlchemy would;
    with `skip_taken`, a row whose unique key is already held (or held by an earlier row)
    is skipped."""
    target, processors = _target(connection.dialect, table, columns)
    sql = f"INSERT INTO {target} VALUES ({', '.join('?' for _ in columns)})"
    if skip_taken:
        sql += " ON CONFLICT DO NOTHING"
    converters = [once_per_value(p) for p in processors]
    connection.exec_driver_sql(
        sql, [tuple(convert(value) for convert, value in zip(converters, row, strict=True)) for row in rows]
    )


def copy_tuples(
    connection: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """PostgreSQL: COPY rows given as tuples in `columns` order, converted as SQLAlchemy would.

    A row whose unique key is taken fails the whole COPY, as it fails a plain INSERT
    (with psycopg's error: the statement does not go through SQLAlchemy).
    """
    target, processors = _target(connection.dialect, table, columns)
    copying = f"COPY {target} FROM STDIN"
    converters = [once_per_value(p) for p in processors]
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(copying) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(tuple(convert(value) for convert, value in zip(converters, row, strict=True)))


@cache
def _fills_defaults(table: sa.Table, columns: tuple[str, ...]) -> bool:
    """Whether SQLAlchemy would add a value the rows leave out (a column's Python-side default)."""
    return any(column.default is not None for column in table.c if column.name not in columns)


@cache
def _target(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...]
) -> tuple[str, list[Callable[[Any], Any] | None]]:
    """`table (column, ...)` quoted for `dialect`, and each column's SQLAlchemy converter."""
    quote = dialect.identifier_preparer.quote
    target = f"{dialect.identifier_preparer.format_table(table)} ({', '.join(quote(c) for c in columns)})"
    return target, [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]


def once_per_value(process: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """`process`, run once for a run of rows sharing the same object (a fan-out's headers and
    creation time are one object for thousands of rows)."""
    if process is None:
        return _unchanged
    last: list[Any] = [_NOTHING, None]

    def converted(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return converted


def _unchanged(value: Any) -> Any:
    return value


_NOTHING = object()
