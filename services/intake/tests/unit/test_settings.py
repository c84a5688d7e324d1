"""Intake's settings refuse values it cannot run with."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runway_intake.config import Settings


def test_one_writer_per_process_by_default_and_never_none() -> None:
    assert Settings().intake_writer_threads == 1
    with pytest.raises(ValidationError, match="intake_writer_threads"):
        Settings(intake_writer_threads=0)
