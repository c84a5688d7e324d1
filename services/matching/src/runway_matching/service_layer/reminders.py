"""Filing-deadline reminders from a persisted schedule: each (lead, race, offset) exactly once.

Scheduling writes one row per reminder when a lead is matched to a race. The
scheduler claims due rows with a conditional UPDATE and stages
`matching.deadline.approaching.v1` in the same transaction, so a restart, a
crash or a second matching process never sends one twice and never loses one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.matching import DeadlineApproaching, RaceSummary
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_locations, lead_matches, races, reminders
from runway_matching.domain.races import Race
from runway_matching.domain.reminders import days_left, reminder_times
from runway_matching.service_layer.race_finder import race_by_id, shown_to
from runway_storage import insert_many_if_absent

log = logging.getLogger(__name__)
# A deadline moved later by more than this is rescheduled rather than reminded early.
MOVED_LATER = timedelta(hours=1)


def schedule(
    session: Session, lead_id: str, race: RaceSummary, offsets: tuple[int, ...], now: datetime
) -> None:
    """Write the lead's reminders for the race (those still ahead; existing ones stay as they are)."""
    if race.filing_deadline is None:
        return
    rows = [
        {
            "lead_id": lead_id,
            "race_id": race.race_id,
            "days_before": days,
            "due_at": due,
            "status": "scheduled",
        }
        for days, due in reminder_times(race.filing_deadline, offsets, now)
    ]
    insert_many_if_absent(session, reminders, rows)


def schedule_for_new_matches(
    session: Session, race_id: str, filing_closes: datetime | None, offsets: tuple[int, ...], now: datetime
) -> None:
    """Reminders for every lead matched to the race at `now` (reverse matching), set-based."""
    if filing_closes is None:
        return
    for days, due in reminder_times(filing_closes, offsets, now):
        newly_matched = sa.select(
            lead_matches.c.lead_id,
            lead_matches.c.race_id,
            sa.literal(days).label("days_before"),
            sa.literal(due, reminders.c.due_at.type).label("due_at"),
            sa.literal("scheduled").label("status"),
        ).where(lead_matches.c.race_id == race_id, lead_matches.c.matched_at == now)
        session.execute(
            reminders.insert().from_select(
                ["lead_id", "race_id", "days_before", "due_at", "status"], newly_matched
            )
        )


def send_due(uow: UnitOfWork, geography: GeographyIndex, now: datetime, limit: int = 500) -> int:
    """Stage every reminder that is due; how many went out."""
    with uow:
        session = uow.session
        due = session.execute(
            sa.select(
                reminders.c.lead_id,
                reminders.c.race_id,
                reminders.c.days_before,
                races.c.filing_closes,
                lead_locations.c.postal_code,
            )
            .join(races, races.c.id == reminders.c.race_id, isouter=True)
            .join(lead_locations, lead_locations.c.lead_id == reminders.c.lead_id, isouter=True)
            .where(reminders.c.status == "scheduled", reminders.c.due_at <= now)
            .order_by(reminders.c.due_at)
            .limit(limit)
        ).all()
        sent = 0
        catalog: dict[str, Race | None] = {}
        for row in due:
            key = sa.and_(
                reminders.c.lead_id == row.lead_id,
                reminders.c.race_id == row.race_id,
                reminders.c.days_before == row.days_before,
                reminders.c.status == "scheduled",
            )
            closes = row.filing_closes
            if closes is None or closes <= now:  # the race is gone, or its filing already closed
                session.execute(reminders.update().where(key).values(status="void"))
                continue
            if closes - timedelta(days=row.days_before) > now + MOVED_LATER:
                session.execute(
                    reminders.update().where(key).values(due_at=closes - timedelta(days=row.days_before))
                )
                continue
            claimed = session.execute(
                reminders.update()
                .where(key)
                .values(status="sent", sent_at=now)
                .returning(reminders.c.lead_id)
            ).first()
            if claimed is None:  # another matching process sent it
                continue
            if row.race_id not in catalog:
                catalog[row.race_id] = race_by_id(session, row.race_id)
            # Shown as it is now (its current name and deadline), to where the person lives.
            race = shown_to(catalog[row.race_id], row.postal_code, geography)  # type: ignore[arg-type]
            uow.outbox.stage(
                session,
                DeadlineApproaching(lead_id=row.lead_id, race=race, days_left=days_left(closes, now)),
                subject_id=row.lead_id,
            )
            sent += 1
        uow.commit()
        return sent


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
