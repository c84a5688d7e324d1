"""Engines for SQLite (the default) and PostgreSQL (production)."""

from __future__ import annotations

import fcntl
import time
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from runway_storage import json_columns

PAGE_CACHE_KIB = 65_536  # per SQLite connection
# A pooled connection given back less than this long ago is handed out again without a
# ping (HikariCP's `aliveBypassWindowMs`, 500 ms too): under load every checkout falls in
# it, and a ping is a round trip per transaction.
PING_AFTER_IDLE_SECONDS = 0.5


def create_database_engine(url: str, *, immediate: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`.

    `immediate=True` (SQLite): every transaction starts with BEGIN IMMEDIATE,
    taking the write lock up front instead of upgrading a read lock later
    (which fails at once, without waiting, when another writer committed in
    between). It also makes SAVEPOINT behave, which pysqlite's own
    transaction handling does not. Meant for a service's dedicated writer.

    Writers in several processes (a service's serving processes) also queue
    on an OS file lock beside the database before BEGIN IMMEDIATE: SQLite's
    own busy handler polls with sleeps of up to 100 ms, so a process whose
    writer commits back to back keeps the lock while another's starves; the
    file lock hands it over in turn, the moment it is released.
    """
    parsed = make_url(url)
    kwargs = {"json_serializer": json_columns.dumps, "json_deserializer": json_columns.loads} | kwargs
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        if immediate:
            lock_path = (
                f"{parsed.database}-writer.lock" if parsed.database not in (None, "", ":memory:") else None
            )
            sa.event.listen(engine, "connect", _driver_autocommit)
            sa.event.listen(engine, "begin", lambda connection: _begin_immediate(connection, lock_path))
            for ended in ("checkin", "close", "invalidate"):
                sa.event.listen(engine, ended, _release_writer_lock)
        return engine
    if parsed.drivername == "postgresql":  # psycopg 3 is the driver we ship
        url = str(parsed.set(drivername="postgresql+psycopg"))
    # Statements go to the server as SQLAlchemy writes them, with PostgreSQL's own $1
    # placeholders: psycopg's default cursors rewrite %(name)s placeholders themselves and
    # keep the result only for statements under 4 KiB and 50 parameters, so every
    # multi-row INSERT of a batch was parsed again on each execution (4.8 ms for 64 rows of
    # 16 columns; a third of notify's event writer on PostgreSQL, 2026-11-29).
    kwargs = {"pool_size": 10, "max_overflow": 20} | kwargs
    engine = sa.create_engine(url, paramstyle="numeric_dollar", **kwargs)
    sa.event.listen(engine, "connect", _raw_cursors)
    sa.event.listen(engine, "checkout", lambda *args: _ping_if_idle(engine.dialect, *args))
    sa.event.listen(engine, "checkin", _given_back)
    return engine


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """SQLAlchemy's `pool_pre_ping`, skipped for a connection in use a moment ago.

    A connection that fails its ping is replaced (the pool tries again with a new
    one). One that broke within the window (the database restarted) fails its first
    statement instead; SQLAlchemy then replaces every pooled connection, and the
    caller's own retry (a writer's batch redone, a message redelivered) gets a new one.
    """
    given_back = record.info.get("given_back_at")
    if given_back is not None and time.monotonic() - given_back < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, dbapi_connection, None):
            raise sa.exc.DisconnectionError(str(error)) from error
        raise


def _given_back(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["given_back_at"] = time.monotonic()


def _raw_cursors(connection: Any, _record: Any) -> None:
    connection.cursor_factory = psycopg.RawCursor
    connection.server_cursor_factory = psycopg.RawServerCursor


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers (the outbox relay, the compliance view) run beside the
    # writer; synchronous=FULL keeps a committed 2xx durable across power loss.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # SQLite's default page cache is 2 MiB per connection: once a table's
    # indexes outgrow it, each lookup and insert re-reads pages through the
    # OS. 64 MiB is an upper bound, taken only as pages are read.
    cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
    cursor.close()


def _driver_autocommit(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # SQLAlchemy, not the driver, issues BEGIN


def _begin_immediate(connection: Any, lock_path: str | None) -> None:
    if lock_path is not None:
        info = connection.connection.info  # per DBAPI connection: flock is per open file
        lock = info.get("writer_lock") or info.setdefault("writer_lock", open(lock_path, "ab"))  # noqa: SIM115
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        info["writer_lock_held"] = True
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _release_writer_lock(_dbapi_connection: Any, record: Any, *_: Any) -> None:
    # After the transaction ended: the pool returns a connection only once its
    # COMMIT or ROLLBACK is done ("commit" events fire before the COMMIT).
    info = record.info if record is not None else {}
    if info.pop("writer_lock_held", False):
        fcntl.flock(info["writer_lock"].fileno(), fcntl.LOCK_UN)


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        return False
