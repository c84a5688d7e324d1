"""Writers on one SQLite file (as in several serving processes) take turns through a file lock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa

from runway_storage import create_database_engine


def engines(tmp_path: Path) -> tuple[sa.Engine, sa.Engine]:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = create_database_engine(url, immediate=True), create_database_engine(url, immediate=True)
    with first.begin() as c:
        c.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    return first, second


def test_a_second_writer_waits_for_the_first_and_proceeds_once_it_commits(tmp_path: Path) -> None:
    first, second = engines(tmp_path)
    assert (tmp_path / "shared.db-writer.lock").exists()
    done = threading.Event()

    def write_second() -> None:
        with second.begin() as c:
            c.execute(sa.text("INSERT INTO t VALUES (2)"))
        done.set()

    with first.begin() as c:
        c.execute(sa.text("INSERT INTO t VALUES (1)"))
        waiter = threading.Thread(target=write_second)
        waiter.start()
        assert not done.wait(0.3)  # queued behind the open transaction
        committed_at = time.monotonic()
    assert done.wait(5)
    assert time.monotonic() - committed_at < 0.5  # proceeds as soon as the first commits
    waiter.join()
    with first.connect() as c:
        assert c.execute(sa.text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 2]


def test_the_lock_is_released_after_a_rollback_and_a_failed_statement(tmp_path: Path) -> None:
    first, second = engines(tmp_path)
    with first.connect() as c:
        c.begin()
        c.execute(sa.text("INSERT INTO t VALUES (1)"))
        c.rollback()
    try:
        with first.begin() as c:
            c.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))
    except sa.exc.OperationalError:
        pass
    finished = threading.Event()

    def write() -> None:
        with second.begin() as c:
            c.execute(sa.text("INSERT INTO t VALUES (3)"))
        finished.set()

    threading.Thread(target=write, daemon=True).start()
    assert finished.wait(3), "a rolled-back writer kept the lock"
