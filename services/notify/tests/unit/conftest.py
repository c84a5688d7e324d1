from __future__ import annotations

from collections.abc import Iterator

import pytest
from notify_scenarios import NotifyDatabase

from runway_devstack.testing import Databases, require_backend


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def notify_db_shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NotifyDatabase]:
    require_backend(request.param)
    databases = Databases(request.param, tmp_path_factory.mktemp(request.param))
    db = NotifyDatabase(databases.urls["notify"])
    yield db
    db.dispose()
    databases.drop()


@pytest.fixture
def notify_db(notify_db_shared: NotifyDatabase) -> NotifyDatabase:
    """Notify's schema on each backend, emptied before each test."""
    notify_db_shared.clear()
    return notify_db_shared
