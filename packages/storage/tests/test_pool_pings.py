"""PostgreSQL connections are pinged when taken from the pool after being idle, not when
they were given back a moment ago; a connection that died is replaced either way."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from runway_devstack.testing import POSTGRES_URL, require_backend
from runway_storage import create_database_engine
from runway_storage import engine as engine_module


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    require_backend("postgresql")
    made = create_database_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


@pytest.fixture
def pings(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    other = create_database_engine(POSTGRES_URL)
    with other.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_a_connection_given_back_a_moment_ago_is_not_pinged(engine: sa.Engine, pings: list[object]) -> None:
    _backend_pid(engine)  # a new connection, pinged as it is first taken
    before = len(pings)
    for _ in range(5):
        _backend_pid(engine)
    assert len(pings) == before


def test_an_idle_connection_is_pinged_and_replaced_if_it_died(
    engine: sa.Engine, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.05)
    first = _backend_pid(engine)
    time.sleep(0.1)
    assert _backend_pid(engine) == first  # alive: pinged, kept
    before = len(pings)
    _terminate(first)
    time.sleep(0.1)
    second = _backend_pid(engine)  # no error: the ping found it dead, the pool made another
    assert second != first
    assert len(pings) > before


def test_a_connection_that_died_within_the_window_fails_once_then_is_replaced(engine: sa.Engine) -> None:
    first = _backend_pid(engine)
    _terminate(first)
    with pytest.raises(sa.exc.DBAPIError) as failed:
        _backend_pid(engine)
    assert failed.value.connection_invalidated
    assert _backend_pid(engine) != first
