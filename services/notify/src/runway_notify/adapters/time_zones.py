"""A US ZIP code's time zone, from the `zipcodes` package's data."""

from __future__ import annotations

import sys
from functools import cache

import zipcodes


@cache
def _zones_by_zip() -> dict[str, str]:
    # One table of every ZIP, read once: `zipcodes.matching` walks its whole list on each
    # call (about 0.5 ms), which was a twentieth of notify's CPU with new ZIPs arriving all
    # the time. The table is ~43,000 short entries; the time zones are a few dozen strings.
    return {
        record["zip_code"]: sys.intern(record["timezone"])
        for record in zipcodes.list_all()
        if record.get("timezone")
    }


def load_time_zones() -> None:
    """Read the table at startup rather than in the first sign-up's batch (~0.4 s)."""
    _zones_by_zip()


def time_zone_for_zip(zip_code: str | None) -> str | None:
    if not zip_code or len(zip_code) != 5 or not zip_code.isdigit():
        return None
    return _zones_by_zip().get(zip_code)
