"""Every SQLite connection, reader's or writer's, gets the settings the services rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from runway_storage import create_database_engine


@pytest.mark.parametrize("immediate", [False, True], ids=["engine", "writer engine"])
def test_each_connection_is_durable_wal_with_a_64_mib_page_cache(tmp_path: Path, immediate: bool) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", immediate=immediate)
    with engine.connect() as c:
        settings = {
            name: c.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "cache_size")
        }
    assert settings == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL: a committed 2xx survives power loss
        "foreign_keys": 1,
        "cache_size": -65_536,  # negative: KiB, not pages — 64 MiB whatever the page size
    }
    engine.dispose()
