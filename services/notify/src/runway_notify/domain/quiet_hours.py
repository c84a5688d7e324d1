"""SMS only between 8am and 9pm where the recipient is (TCPA); outside it, the next morning.

When the recipient's time zone is unknown the message must fit the window in
every continental US zone at once (11am–9pm Eastern), the only safe guess.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

OPENS = time(8, 0)
CLOSES = time(21, 0)
CONTINENTAL_US = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


def zones_for(time_zone: str | None) -> list[ZoneInfo]:
    return [ZoneInfo(name) for name in ((time_zone,) if time_zone else CONTINENTAL_US)]


def _next_opening(moment: datetime, zone: ZoneInfo) -> datetime | None:
    """None if `moment` is inside the window in `zone`, else when the window next opens there."""
    local = moment.astimezone(zone)
    if OPENS <= local.time() < CLOSES:
        return None
    day = local.date() if local.time() < OPENS else local.date() + timedelta(days=1)
    return datetime.combine(day, OPENS, tzinfo=zone).astimezone(UTC)


def next_allowed(now: datetime, time_zone: str | None) -> datetime:
    """`now` if an SMS may go now, else the earliest later moment when it may."""
    zones = zones_for(time_zone)
    moment = now
    for _ in range(8):  # each step moves to some zone's opening; a few suffice
        openings = [o for o in (_next_opening(moment, z) for z in zones) if o is not None]
        if not openings:
            return moment
        moment = max(openings)
    raise AssertionError("no common sending window")  # pragma: no cover - zones overlap by design


def within_window(now: datetime, time_zone: str | None) -> bool:
    return next_allowed(now, time_zone) == now
