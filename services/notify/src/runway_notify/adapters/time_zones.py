"""A US ZIP code's time zone, from the `zipcodes` package's data."""

from __future__ import annotations

from functools import lru_cache

import zipcodes


@lru_cache(maxsize=50_000)
def time_zone_for_zip(zip_code: str | None) -> str | None:
    if not zip_code or len(zip_code) != 5 or not zip_code.isdigit():
        return None
    found = zipcodes.matching(zip_code)
    return (found[0].get("timezone") or None) if found else None
