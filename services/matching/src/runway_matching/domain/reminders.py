"""When to remind a person that a race's filing deadline is near."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

DEFAULT_OFFSETS = (14, 7, 1)


def reminder_times(
    filing_closes: datetime, offsets: tuple[int, ...], now: datetime
) -> list[tuple[int, datetime]]:
    """(days before, when) for each offset still ahead of `now`."""
    return [
        (days, filing_closes - timedelta(days=days))
        for days in sorted(set(offsets), reverse=True)
        if filing_closes - timedelta(days=days) > now
    ]


def days_left(filing_closes: datetime, now: datetime) -> int:
    """Whole days until filing closes, rounded up (a deadline 20 hours away is "1 day")."""
    return max(math.ceil((filing_closes - now).total_seconds() / 86_400), 0)
