from __future__ import annotations

from collections.abc import Iterator

import pytest
from donation_scenarios import DonationsDatabase

from runway_devstack.testing import Databases, require_backend


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def donations_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DonationsDatabase]:
    """Donations' schema on each backend, shared by a module's tests (clear it between them)."""
    require_backend(request.param)
    databases = Databases(request.param, tmp_path_factory.mktemp(request.param))
    db = DonationsDatabase(databases.urls["donations"])
    yield db
    db.dispose()
    databases.drop()
