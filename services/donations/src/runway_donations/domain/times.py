"""Provider times, in UTC (the database keeps times without their offset)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc_from_iso(value: Any) -> datetime:
    """ISO 8601 with or without an offset (none means UTC), always returned in UTC."""
    moment = datetime.fromisoformat(str(value))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
