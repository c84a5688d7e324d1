"""Matching's database on SQLite and PostgreSQL, and the shipped geography, for unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from matching_database import MatchingDatabase

from runway_devstack.testing import Databases, require_backend
from runway_matching.adapters.geography_index import GeographyIndex


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MatchingDatabase]:
    require_backend(request.param)
    databases = Databases(request.param, tmp_path_factory.mktemp(request.param))
    db = MatchingDatabase(databases.urls["matching"])
    yield db
    db.engine.dispose()
    databases.drop()


@pytest.fixture
def db(shared_db: MatchingDatabase) -> MatchingDatabase:
    shared_db.clear()
    return shared_db


@pytest.fixture(scope="module")
def geography() -> GeographyIndex:
    return GeographyIndex.load()
