"""A new race reaches the people it concerns: `matching.lead.race_nearby.v1` once per lead and race.

Reads the lead-division index (never a scan of every lead), checks each
person's eligibility, and records the match in `lead_matches`, whose key makes
a second publication for the same lead and race impossible.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.matching import LeadRaceNearby
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_divisions, lead_locations, lead_matches, races
from runway_matching.domain.races import Person, eligible
from runway_matching.service_layer.race_finder import race_by_id, shown_to
from runway_matching.service_layer.reminders import schedule_for_new_matches


def leads_in(session: Session, division_id: str) -> list[tuple[str, str | None, object]]:
    return [
        tuple(row)  # type: ignore[misc]
        for row in session.execute(
            sa.select(
                lead_locations.c.lead_id,
                lead_locations.c.postal_code,
                lead_locations.c.birth_date,  # eligibility needs only the age on election day
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
    """Publish the race to every eligible lead living in its division; how many were told.

    Set-based: one read of the division's leads, one of who already has the race,
    then bulk inserts, so a county of tens of thousands of people is one short
    transaction.
    """
    with uow:
        session = uow.session
        # One announcer per race at a time (a row lock on PostgreSQL; SQLite has one writer).
        if (
            session.execute(sa.select(races.c.id).where(races.c.id == race_id).with_for_update()).first()
            is None
        ):
            return 0
        race = race_by_id(session, race_id)
        assert race is not None
        already = set(
            session.scalars(sa.select(lead_matches.c.lead_id).where(lead_matches.c.race_id == race_id))
        )
        shown: dict[str | None, str] = {}  # the race as shown depends only on the ZIP
        matches: list[dict[str, object]] = []
        events: list[tuple[str, str]] = []
        for lead_id, postal_code, birth_date in leads_in(session, race.division_id):
            if lead_id in already:
                continue  # this person already has this race
            if not eligible(race, Person(birth_date, frozenset()), now):  # type: ignore[arg-type]
                continue
            if postal_code not in shown:  # validated by its model, encoded once per ZIP
                shown[postal_code] = shown_to(race, postal_code, geography).model_dump_json()
            already.add(lead_id)
            matches.append({"lead_id": lead_id, "race_id": race_id, "matched_at": now})
            # A LeadRaceNearby, spliced: thousands of events share the same race.
            events.append((lead_id, f'{{"lead_id":{json.dumps(lead_id)},"race":{shown[postal_code]}}}'))
        if matches:
            session.execute(lead_matches.insert(), matches)
            uow.outbox.stage_rows(session, uow.outbox.rows_of_one_type(LeadRaceNearby.TYPE, events))
            # Their reminders in one statement per offset: the leads matched to this race just now.
            schedule_for_new_matches(session, race_id, race.filing_closes, reminder_offsets, now)
        uow.commit()
        return len(matches)
