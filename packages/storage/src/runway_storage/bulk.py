"""Plain multi-row INSERTs (and keyed UPDATEs) by the fastest path each driver has.

SQLAlchemy runs a many-row INSERT through its execution context, which builds
a parameter dict per row and runs every column's converter on it: for a batch
of sign-ups that is most of the time the writer holds SQLite's write lock.
Here the same converters (SQLite's stored date format, the JSON encoding) are
applied to plain tuples, once for a run of rows sharing one object (a batch's
creation time), and the rows go by the driver's cheapest path: SQLite's
`executemany` in one call; on PostgreSQL a COPY, whose rows psycopg writes in
C (its `executemany`, which SQLAlchemy uses there, handles each row's result
in Python: about ten times the client CPU for a batch of sign-ups' rows).

`write_together` writes several tables' rows at once: on PostgreSQL in one statement,
so a group-commit writer pays one round trip for what took a dozen (decision 0023).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa
from psycopg.adapt import PyFormat
from psycopg.types.json import Json, Jsonb
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


@dataclass(frozen=True)
class Insert:
    table: sa.Table
    rows: Sequence[dict[str, Any]]  # each with the same keys


@dataclass(frozen=True)
class Update:
    """Each row sets its other columns on the stored row its `key` columns name.

    The keys are unique among the rows and name rows stored before this write: within one
    PostgreSQL statement an UPDATE does not see rows a sibling INSERT adds."""

    table: sa.Table
    key: tuple[str, ...]
    rows: Sequence[dict[str, Any]]  # each with the same keys


@dataclass(frozen=True)
class Add(Update):
    """Each row's other columns are added to the stored row's (a counter's increments)."""


def write_together(session: Session, writes: Sequence[Insert | Update]) -> None:
    """Each write, in order, in `session`'s transaction: all or none of them.

    On PostgreSQL they go as one statement, each write a data-modifying WITH clause reading
    its rows from one JSON parameter, cast to its columns' types (so a value is read as
    COPY reads it, and a value too long for its column fails as it would in an INSERT).
    Foreign keys between them hold: PostgreSQL checks them at the end of the statement.
    Elsewhere, or for rows the JSON form cannot carry, one statement per write.
    """
    writes = [w for w in writes if w.rows]
    if not writes:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and all(_in_one_statement(w) for w in writes):
        _one_statement(connection, writes)
        return
    for write in writes:
        if isinstance(write, Insert):
            insert_rows(session, write.table, write.rows)
        else:
            key, columns = write.key, tuple(c for c in write.rows[0] if c not in write.key)
            session.execute(
                _update_statement(write.table, key, columns, isinstance(write, Add)),
                [{f"b_{c}": row[c] for c in (*key, *columns)} for row in write.rows],
            )


def _in_one_statement(write: Insert | Update) -> bool:
    columns = tuple(write.rows[0])
    return (
        not (isinstance(write, Insert) and _fills_defaults(write.table, columns))
        and all(len(row) == len(columns) for row in write.rows)
        # orjson writes a float's NaN as null; arrays would need PostgreSQL's array syntax.
        and not any(isinstance(write.table.c[c].type, sa.ARRAY | sa.Float) for c in columns)
    )


def _one_statement(connection: Connection, writes: Sequence[Insert | Update]) -> None:
    driver = connection.connection.driver_connection
    json_text = driver.adapters.get_dumper(Json, PyFormat.TEXT)(Json, driver)  # type: ignore[union-attr]

    def plain(value: Any) -> Any:
        """What orjson cannot write itself, as the text PostgreSQL reads for the column."""
        if isinstance(value, Json | Jsonb):
            return bytes(json_text.dump(value)).decode()
        if isinstance(value, psycopg.Binary):
            value = value.obj
        if isinstance(value, bytes | bytearray | memoryview):
            return "\\x" + bytes(value).hex()
        return str(value)  # Decimal, UUID: their text form

    clauses, documents = [], []
    for n, write in enumerate(writes, start=1):
        columns = tuple(write.rows[0])
        key = write.key if isinstance(write, Update) else ()
        clauses.append(_clause(connection.dialect, write.table, columns, key, isinstance(write, Add), n))
        _, processors = _target(connection.dialect, write.table, columns)
        converters = [once_per_value(p) for p in processors]
        values = [
            [convert(row[c]) for convert, c in zip(converters, columns, strict=True)] for row in write.rows
        ]
        try:
            documents.append(orjson.dumps(values, default=plain).decode())
        except orjson.JSONEncodeError:  # an integer beyond 64 bits: json writes it
            documents.append(json.dumps(values, default=plain))
    *ahead, last = clauses
    sql = (
        f"WITH {', '.join(f'w{n} AS ({c})' for n, c in enumerate(ahead, start=1))} " if ahead else ""
    ) + last
    with psycopg.RawCursor(driver) as cursor:  # type: ignore[arg-type]
        cursor.execute(sql, documents)


@cache
def _clause(
    dialect: Dialect, table: sa.Table, columns: tuple[str, ...], key: tuple[str, ...], add: bool, n: int
) -> str:
    """The INSERT, or the UPDATE by `key` (setting or adding to), of rows given as the JSON
    array of arrays `$n`."""
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    read = {c: f"CAST(r.v->>{i} AS {_type_name(dialect, table.c[c])})" for i, c in enumerate(columns)}
    rows = f"jsonb_array_elements(${n}::jsonb) AS r(v)"
    if not key:
        return f"INSERT INTO {name} ({', '.join(quote(c) for c in columns)}) SELECT {', '.join(read.values())} FROM {rows}"
    sets = ", ".join(
        f"{quote(c)} = {f'{name}.{quote(c)} + ' if add else ''}{read[c]}" for c in columns if c not in key
    )
    where = " AND ".join(f"{name}.{quote(c)} = {read[c]}" for c in key)
    return f"UPDATE {name} SET {sets} FROM {rows} WHERE {where}"


def _type_name(dialect: Dialect, column: sa.Column[Any]) -> str:
    """The column's type without its length or precision: `CAST(x AS VARCHAR(5))` would
    cut a longer value short, where assigning it to the column refuses it."""
    return re.sub(r"\([^)]*\)", "", column.type.compile(dialect=dialect))


@cache
def _update_statement(
    table: sa.Table, key: tuple[str, ...], columns: tuple[str, ...], add: bool
) -> sa.Update:
    return (
        table.update()
        .where(*(table.c[c] == sa.bindparam(f"b_{c}") for c in key))
        .values(
            {c: (table.c[c] + sa.bindparam(f"b_{c}")) if add else sa.bindparam(f"b_{c}") for c in columns}
        )
    )


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
