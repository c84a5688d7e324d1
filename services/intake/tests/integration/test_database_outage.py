"""While PostgreSQL is down, sign-ups get 503 with Retry-After, never a 2xx they cannot keep."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from intake_harness import Intake, make_intake

from runway_devstack.postgres_server import PostgresServer, postgres_bindir


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    if postgres_bindir() is None:
        if os.environ.get("RUNWAY_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL's binaries (initdb, pg_ctl) are required")
        pytest.skip("PostgreSQL's binaries (initdb, pg_ctl) are not installed")
    server = PostgresServer()
    server.create()
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def intake(postgres: PostgresServer, tmp_path: Path) -> Iterator[Intake]:
    yield from make_intake("postgresql", tmp_path, postgres.url)


def test_signups_get_503_while_the_database_is_down_and_202_once_it_is_back(
    intake: Intake, postgres: PostgresServer
) -> None:
    http = intake.http
    assert http.post("/v1/signups", json={"email": "before@example.org"}).status_code == 202
    postgres.stop("immediate")
    response = http.post("/v1/signups", json={"email": "during@example.org"})
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert "database" in response.json()["detail"]
    postgres.start()
    assert http.post("/v1/signups", json={"email": "after@example.org"}).status_code == 202
    intake.engine.dispose()  # its pooled connections died with the server
    assert intake.count("SELECT count(*) FROM leads") == 2
