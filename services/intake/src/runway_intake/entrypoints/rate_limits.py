"""Per-IP and per-form token buckets (per process: N instances allow N times the rate)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class TokenBuckets:
    per_minute: float
    burst: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """0 if allowed, else the seconds to wait before trying again."""
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > 100_000:  # forget idle keys rather than grow without bound
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 600}
            return 0.0
        self._buckets[key] = (tokens, now)
        return math.ceil((1 - tokens) / rate) if rate else 60.0
