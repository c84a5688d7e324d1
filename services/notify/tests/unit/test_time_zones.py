"""A contact's time zone comes from their ZIP code (quiet hours for SMS depend on it)."""

from __future__ import annotations

import pytest

from runway_notify.adapters.time_zones import time_zone_for_zip


@pytest.mark.parametrize(
    ("zip_code", "zone"),
    [
        ("10001", "America/New_York"),
        ("60614", "America/Chicago"),
        ("80202", "America/Denver"),
        ("85004", "America/Phoenix"),  # Arizona keeps standard time all year
        ("94110", "America/Los_Angeles"),
        ("99501", "America/Anchorage"),
        ("96813", "Pacific/Honolulu"),
    ],
)
def test_a_zip_codes_time_zone(zip_code: str, zone: str) -> None:
    assert time_zone_for_zip(zip_code) == zone


@pytest.mark.parametrize("zip_code", [None, "", "1000", "100011", "1000a", "00000"])
def test_no_time_zone_for_what_is_not_a_known_zip(zip_code: str | None) -> None:
    assert time_zone_for_zip(zip_code) is None
