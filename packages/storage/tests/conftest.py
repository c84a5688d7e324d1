"""A database on each backend, with a test module's tables created in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from runway_devstack.testing import Databases, require_backend


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_with(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[sa.MetaData], sa.Engine]]:
    require_backend(request.param)
    databases = Databases(request.param, tmp_path)
    engines: list[sa.Engine] = []

    def engine(metadata: sa.MetaData) -> sa.Engine:
        engines.append(databases.engine("donations"))
        metadata.create_all(engines[-1])
        return engines[-1]

    yield engine
    for made in engines:
        made.dispose()
    databases.drop()
