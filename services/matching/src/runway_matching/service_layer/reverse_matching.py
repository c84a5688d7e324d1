"""A new race reaches the people it concerns: `matching.lead.race_nearby.v1` once per lead and race.

Reads the lead-division index (never a scan of every lead), checks each
person's eligibility, and records the match in `lead_matches`, whose key makes
a second publication for the same lead and race impossible.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.matching import LeadRaceNearby, RaceSummary
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_divisions, lead_locations, lead_matches
from runway_matching.domain.geography import DivisionMatch
from runway_matching.domain.races import Person, Race, eligible, reason
from runway_matching.service_layer.race_finder import RankedRace, race_by_id
from runway_matching.service_layer.reminders import schedule
from runway_storage import insert_if_absent


def leads_in(session: Session, division_id: str) -> list[tuple[str, str | None, object, list[str]]]:
    return [
        tuple(row)  # type: ignore[misc]
        for row in session.execute(
            sa.select(
                lead_locations.c.lead_id,
                lead_locations.c.postal_code,
                lead_locations.c.birth_date,
                lead_locations.c.interests,
            )
            .join(lead_divisions, lead_divisions.c.lead_id == lead_locations.c.lead_id)
            .where(lead_divisions.c.division_id == division_id)
        )
    ]


def announce_race(
    uow: UnitOfWork,
    race_id: str,
    geography: GeographyIndex,
    now: datetime,
    reminder_offsets: tuple[int, ...],
) -> int:
    """Publish the race to every eligible lead living in its division; how many were told."""
    with uow:
        session = uow.session
        race = race_by_id(session, race_id)
        if race is None:
            return 0
        told = 0
        for lead_id, postal_code, birth_date, interests in leads_in(session, race.division_id):
            person = Person(birth_date, frozenset(interests or ()))  # type: ignore[arg-type]
            if not eligible(race, person, now):
                continue
            if not insert_if_absent(
                session, lead_matches, {"lead_id": lead_id, "race_id": race.race_id, "matched_at": now}
            ):
                continue  # this person already has this race
            summary = _shown_to(race, postal_code, geography)
            uow.outbox.stage(session, LeadRaceNearby(lead_id=lead_id, race=summary), subject_id=lead_id)
            schedule(session, lead_id, summary, reminder_offsets, now)
            told += 1
        uow.commit()
        return told


def _shown_to(race: Race, postal_code: str | None, geography: GeographyIndex) -> RaceSummary:
    where = next((d for d in geography.locate(postal_code).divisions if d.ocd_id == race.division_id), None)
    if where is None:  # the shipped geography changed since this person was matched
        division = geography.divisions.get(race.division_id)
        name, kind = (division.name, division.kind) if division else (race.division_id, "")
        where = DivisionMatch(race.division_id, name, kind, None)
    return RankedRace(race, where, 0.0, reason(race, where, postal_code)).summary()
