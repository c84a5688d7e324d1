"""When to try a failed send again."""

from __future__ import annotations

import random
from datetime import timedelta

FIRST_DELAY = 2.0
LONGEST_DELAY = 300.0


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential from 2 s, capped at 5 min, with ±20 % jitter so a recovered server is not stampeded."""
    base = min(FIRST_DELAY * 2 ** max(attempts - 1, 0), LONGEST_DELAY)
    return timedelta(seconds=base * (rng or random).uniform(0.8, 1.2))
