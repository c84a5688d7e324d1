"""When a lead arrives: find their races and publish `matching.lead.matched.v1`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from runway_contracts.intake import LeadReceived
from runway_contracts.matching import LeadMatched
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_divisions, lead_locations, lead_matches
from runway_matching.domain.geography import Location
from runway_matching.domain.races import Person
from runway_matching.domain.reminders import DEFAULT_OFFSETS
from runway_matching.service_layer.race_finder import find_races
from runway_matching.service_layer.reminders import schedule
from runway_storage import insert_many_if_absent, upsert

TOP_RACES = 10
# Filing-deadline reminders go for the best few races only: three reminders for each of ten
# races would be thirty messages, which is how people learn to unsubscribe.
REMINDED_RACES = 3


def match_lead(
    event_id: str,
    event: LeadReceived,
    uow: UnitOfWork,
    inbox: Inbox,
    geography: GeographyIndex,
    reminder_offsets: tuple[int, ...] = DEFAULT_OFFSETS,
) -> bool:
    """One event in a transaction of its own; False when it was already handled (a redelivery)."""
    with uow:
        if not inbox.first_delivery(uow.session, event_id):
            return False
        record_match(uow, event, geography, reminder_offsets, datetime.now(UTC))
        uow.commit()
        return True


def record_match(
    uow: UnitOfWork,
    event: LeadReceived,
    geography: GeographyIndex,
    reminder_offsets: tuple[int, ...],
    now: datetime,
) -> None:
    """The lead's races, reminders and `matching.lead.matched.v1`, in the caller's transaction."""
    session = uow.session
    lead = event.lead
    location = geography.locate(lead.postal_code)
    person = Person(lead.birth_date, frozenset(lead.interests))
    ranked = find_races(session, location, person, now)
    record_location(session, lead.lead_id, location, lead.birth_date, lead.interests, now)
    top = ranked[:TOP_RACES]
    insert_many_if_absent(
        session,
        lead_matches,
        [
            {
                "lead_id": lead.lead_id,
                "race_id": r.race.race_id,
                "matched_at": now,
                "reminded": n < REMINDED_RACES,
            }
            for n, r in enumerate(top)
        ],
    )
    for ranked_race in top[:REMINDED_RACES]:
        schedule(session, ranked_race.race.race_id, ranked_race.race.filing_closes, reminder_offsets, now)
    uow.outbox.stage(
        session,
        LeadMatched(
            lead_id=lead.lead_id,
            postal_code=lead.postal_code,
            location_resolved=location.resolved,
            location_summary=location.summary,
            total_races=len(ranked),
            races=[r.summary() for r in top],
            matched_at=now,
        ),
        subject_id=lead.lead_id,
    )


def record_location(
    session: Session,
    lead_id: str,
    location: Location,
    birth_date: date | None,
    interests: Iterable[str],
    now: datetime,
) -> None:
    """Where the lead lives, and the lead–division index reverse matching reads."""
    division_ids = list(dict.fromkeys(d.ocd_id for d in location.divisions))
    row = {
        "lead_id": lead_id,
        "postal_code": location.postal_code,
        "division_ids": division_ids,
        "birth_date": birth_date,
        "interests": sorted(interests),
        "updated_at": now,
    }
    upsert(session, lead_locations, row, key=["lead_id"])
    session.execute(lead_divisions.delete().where(lead_divisions.c.lead_id == lead_id))
    insert_many_if_absent(
        session,
        lead_divisions,
        [
            {
                "division_id": d,
                "lead_id": lead_id,
                "postal_code": location.postal_code,
                "birth_date": birth_date,
            }
            for d in division_ids
        ],
    )
