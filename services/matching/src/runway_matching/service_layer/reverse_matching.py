"""A new race reaches the people it concerns: `matching.lead.race_nearby.v1` once per lead and race.

Reads the lead-division index (never a scan of every lead) and records each match in
`lead_matches`, whose key makes a second publication for the same lead and race
impossible. The work is in the database: who is old enough is a comparison of birth
dates, and the matches are written by one INSERT … SELECT that returns the people it
added. Their events are staged as one fan-out outbox row (the race encoded once per ZIP),
which the relay publishes as one message per person.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.matching import LeadRaceNearby
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_divisions, lead_matches, races
from runway_matching.domain.races import Person, Race, eligible, latest_birth_date
from runway_matching.service_layer.race_finder import race_by_id
from runway_matching.service_layer.race_notices import stage_race_notices
from runway_matching.service_layer.reminders import schedule
from runway_storage import UtcDateTime, insert_selected_if_absent

ANYONE = Person(None, frozenset())


def _old_enough(race: Race) -> sa.ColumnElement[bool]:
    """Leads old enough on election day (a lead who gave no birth date is not ruled out)."""
    if not race.minimum_age:
        return sa.true()
    born_by: date = latest_birth_date(race.election_date, race.minimum_age)
    return sa.or_(lead_divisions.c.birth_date.is_(None), lead_divisions.c.birth_date <= born_by)


def eligible_leads(race: Race) -> sa.Select[tuple[str, str | None]]:
    """The leads living in the race's division who could run for it: (lead id, ZIP), one range
    of the lead–division index."""
    return sa.select(lead_divisions.c.lead_id, lead_divisions.c.postal_code).where(
        lead_divisions.c.division_id == race.division_id, _old_enough(race)
    )


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
        # One announcer per race at a time (a row lock on PostgreSQL; SQLite has one writer).
        if (
            session.execute(sa.select(races.c.id).where(races.c.id == race_id).with_for_update()).first()
            is None
        ):
            return 0
        race = race_by_id(session, race_id)
        assert race is not None
        if not eligible(race, ANYONE, now):  # filing closed or the election is past: nobody can run
            return 0
        told = _match(session, race, now)
        if told:
            zips = _zips(session, race, told)
            stage_race_notices(
                uow, LeadRaceNearby.TYPE, race, [(lead, zips.get(lead)) for lead in told], geography
            )
            schedule(session, race_id, race.filing_closes, reminder_offsets, now)
        uow.commit()
        return len(told)


def _match(session: Session, race: Race, now: datetime) -> list[str]:
    """Record the race for every eligible lead who does not have it yet; those leads."""
    newly = eligible_leads(race).with_only_columns(
        lead_divisions.c.lead_id,
        sa.literal(race.race_id, lead_matches.c.race_id.type),
        sa.literal(now, UtcDateTime()),
        sa.true(),
    )
    return insert_selected_if_absent(
        session, lead_matches, ["lead_id", "race_id", "matched_at", "reminded"], newly, lead_matches.c.lead_id
    )


def _zips(session: Session, race: Race, leads: list[str]) -> dict[str, str | None]:
    """Where each newly told lead lives (read as one set, not one query a lead)."""
    return dict(session.execute(eligible_leads(race)).tuples().all()) if leads else {}
