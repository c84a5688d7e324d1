from collections.abc import Iterator
from pathlib import Path

import pytest
from intake_harness import Intake, make_intake


@pytest.fixture(params=["sqlite", "postgresql"])
def intake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Intake]:
    yield from make_intake(request.param, tmp_path, intake_max_body_bytes=4096)
