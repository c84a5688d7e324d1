"""Filing-deadline reminders from a persisted schedule: each (lead, race, offset) exactly once.

The schedule holds one row per race and offset; who hears it is read when it
goes out: every lead matched to the race with reminders on (`lead_matches.reminded`)
before the reminder was due. The scheduler claims a due row with a conditional
UPDATE and stages every recipient's `matching.deadline.approaching.v1` in the same
transaction, so a restart, a crash or a second matching process never sends one
twice and never loses one. Telling 30,000 people about a new county race then
writes three schedule rows, not 90,000.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.matching import DeadlineApproaching
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_locations, lead_matches, race_reminders, races
from runway_matching.domain.reminders import days_left, reminder_times
from runway_matching.service_layer.race_finder import race_by_id
from runway_matching.service_layer.race_notices import stage_race_notices
from runway_storage import insert_many_if_absent

log = logging.getLogger(__name__)


def schedule(
    session: Session, race_id: str, filing_closes: datetime | None, offsets: tuple[int, ...], now: datetime
) -> None:
    """The race's reminders still ahead of `now` (existing ones stay as they are)."""
    insert_many_if_absent(session, race_reminders, reminder_rows(race_id, filing_closes, offsets, now))


def reminder_rows(
    race_id: str, filing_closes: datetime | None, offsets: tuple[int, ...], now: datetime
) -> list[dict[str, object]]:
    if filing_closes is None:
        return []
    return [
        {"race_id": race_id, "days_before": days, "due_at": due, "status": "scheduled"}
        for days, due in reminder_times(filing_closes, offsets, now)
    ]


def move(session: Session, deadlines: Mapping[str, datetime | None]) -> None:
    """Races whose filing deadline changed: their reminders not yet sent follow it (a race
    that no longer has a deadline has none)."""
    for race_id, closes in deadlines.items():
        scheduled = sa.and_(race_reminders.c.race_id == race_id, race_reminders.c.status == "scheduled")
        if closes is None:
            session.execute(race_reminders.update().where(scheduled).values(status="void"))
            continue
        for days in session.scalars(sa.select(race_reminders.c.days_before).where(scheduled)).all():
            session.execute(
                race_reminders.update()
                .where(scheduled, race_reminders.c.days_before == days)
                .values(due_at=closes - timedelta(days=days))
            )


def send_due(uow: UnitOfWork, geography: GeographyIndex, now: datetime, limit: int = 20) -> int:
    """Stage every reminder that is due; how many people were reminded."""
    with uow:
        session = uow.session
        due = session.execute(
            sa.select(
                race_reminders.c.race_id,
                race_reminders.c.days_before,
                race_reminders.c.due_at,
                races.c.filing_closes,
            )
            .join(races, races.c.id == race_reminders.c.race_id, isouter=True)
            .where(race_reminders.c.status == "scheduled", race_reminders.c.due_at <= now)
            .order_by(race_reminders.c.due_at)
            .limit(limit)
        ).all()
        sent = 0
        for row in due:
            key = sa.and_(
                race_reminders.c.race_id == row.race_id,
                race_reminders.c.days_before == row.days_before,
                race_reminders.c.status == "scheduled",
            )
            closes = row.filing_closes
            if closes is None or closes <= now:  # the race is gone, or its filing already closed
                session.execute(race_reminders.update().where(key).values(status="void"))
                continue
            claimed = session.execute(
                race_reminders.update()
                .where(key)
                .values(status="sent", sent_at=now)
                .returning(race_reminders.c.race_id)
            ).first()
            if claimed is None:  # another matching process sent it
                continue
            sent += _remind(uow, row.race_id, row.due_at, days_left(closes, now), geography)
        uow.commit()
        return sent


def _remind(uow: UnitOfWork, race_id: str, due_at: datetime, days: int, geography: GeographyIndex) -> int:
    """Stage the reminder for everyone who was matched to the race, with reminders on, before it was due."""
    session = uow.session
    race = race_by_id(session, race_id)
    assert race is not None
    recipients: list[tuple[str, str | None]] = (
        session.execute(
            sa.select(lead_matches.c.lead_id, lead_locations.c.postal_code)
            .join(lead_locations, lead_locations.c.lead_id == lead_matches.c.lead_id, isouter=True)
            .where(
                lead_matches.c.race_id == race_id,
                lead_matches.c.reminded.is_(True),
                lead_matches.c.matched_at < due_at,
            )
        )
        .tuples()
        .all()
    )
    stage_race_notices(uow, DeadlineApproaching.TYPE, race, list(recipients), geography, {"days_left": days})
    return len(recipients)


class ReminderScheduler:
    """Sends due reminders every `poll_seconds` on its own thread; the schedule lives in the database."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        geography: GeographyIndex,
        poll_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._uow = uow_factory
        self._geography = geography
        self._poll = poll_seconds
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reminder-scheduler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                while send_due(self._uow(), self._geography, self._clock()) and not self._stop.is_set():
                    pass
            except Exception:
                log.exception("sending due reminders failed; trying again in %.0fs", self._poll)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
