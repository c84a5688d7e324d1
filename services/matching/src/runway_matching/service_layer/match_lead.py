"""When a lead arrives: find their races and publish `matching.lead.matched.v1`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from opentelemetry.context import Context
from sqlalchemy.orm import Session

from runway_contracts.intake import LeadReceived
from runway_contracts.matching import LeadMatched
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_divisions, lead_locations, lead_matches, race_reminders
from runway_matching.domain.geography import Location
from runway_matching.domain.races import Person, Race
from runway_matching.domain.reminders import DEFAULT_OFFSETS
from runway_matching.service_layer.race_finder import races_in, rank
from runway_matching.service_layer.reminders import reminder_rows
from runway_storage import insert_many_if_absent, upsert_many

# The races in some divisions, as a transaction sees the catalog.
RaceFinder = Callable[[Session, list[str]], list[Race]]

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
    record_matches(uow, [(event, None)], geography, reminder_offsets, now)


def record_matches(
    uow: UnitOfWork,
    leads: Sequence[tuple[LeadReceived, Context | None]],
    geography: GeographyIndex,
    reminder_offsets: tuple[int, ...],
    now: datetime,
    find_races: RaceFinder = races_in,
) -> None:
    """Each lead's races, reminders and matched event, in the caller's transaction.

    A statement per table for the whole batch, not ten per lead: on PostgreSQL each is a
    round trip, and matching fell behind at 40 sign-ups/s writing lead by lead. The same
    lead twice in a batch (someone signing up again) ends as if written one after the
    other: the later location stands, the matches are the union, one event each.
    `Context` is the trace each matched event continues (None: the current one);
    `find_races` reads the catalog (the database unless told otherwise).
    """
    session = uow.session
    located = [geography.locate(event.lead.postal_code) for event, _ in leads]
    candidates: dict[str, list[Race]] = {}
    for race in find_races(session, list(dict.fromkeys(d for loc in located for d in _division_ids(loc)))):
        candidates.setdefault(race.division_id, []).append(race)
    locations: dict[str, dict[str, Any]] = {}
    matches: dict[tuple[str, str], dict[str, Any]] = {}
    reminders: dict[tuple[str, int], dict[str, Any]] = {}
    matched_events = []
    for (event, trace), location in zip(leads, located, strict=True):
        lead = event.lead
        ranked = rank(
            [race for d in _division_ids(location) for race in candidates.get(d, ())],
            location,
            Person(lead.birth_date, frozenset(lead.interests)),
            now,
        )
        locations[lead.lead_id] = location_row(lead.lead_id, location, lead.birth_date, lead.interests, now)
        top = ranked[:TOP_RACES]
        for n, r in enumerate(top):
            matches.setdefault(
                (r.race.race_id, lead.lead_id),
                {
                    "lead_id": lead.lead_id,
                    "race_id": r.race.race_id,
                    "matched_at": now,
                    "reminded": n < REMINDED_RACES,
                },
            )
        for r in top[:REMINDED_RACES]:
            for row in reminder_rows(r.race.race_id, r.race.filing_closes, reminder_offsets, now):
                reminders.setdefault((row["race_id"], row["days_before"]), row)
        matched = LeadMatched(
            lead_id=lead.lead_id,
            postal_code=lead.postal_code,
            location_resolved=location.resolved,
            location_summary=location.summary,
            total_races=len(ranked),
            races=[r.summary() for r in top],
            matched_at=now,
        )
        matched_events.append(uow.outbox.row(matched, subject_id=lead.lead_id, trace_context=trace))
    write_locations(session, list(locations.values()))
    insert_many_if_absent(session, lead_matches, list(matches.values()))
    insert_many_if_absent(session, race_reminders, list(reminders.values()))
    uow.outbox.stage_rows(session, matched_events)


def _division_ids(location: Location) -> list[str]:
    return list(dict.fromkeys(d.ocd_id for d in location.divisions))


def location_row(
    lead_id: str, location: Location, birth_date: date | None, interests: Iterable[str], now: datetime
) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "postal_code": location.postal_code,
        "division_ids": _division_ids(location),
        "birth_date": birth_date,
        "interests": sorted(interests),
        "updated_at": now,
    }


# Built once: every batch of new leads runs it (building it was 3 % of matching's CPU).
_DIVISIONS_OF = lead_divisions.delete().where(
    lead_divisions.c.lead_id.in_(sa.bindparam("lead_ids", expanding=True))
)


def write_locations(session: Session, rows: list[dict[str, Any]]) -> None:
    """Where each lead lives (one row per lead), and the lead–division index reverse
    matching reads, replacing what was there."""
    if not rows:
        return
    upsert_many(session, lead_locations, rows, key=["lead_id"])
    session.execute(_DIVISIONS_OF, {"lead_ids": [r["lead_id"] for r in rows]})
    insert_many_if_absent(
        session,
        lead_divisions,
        [
            {
                "division_id": d,
                "lead_id": row["lead_id"],
                "postal_code": row["postal_code"],
                "birth_date": row["birth_date"],
            }
            for row in rows
            for d in row["division_ids"]
        ],
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
    write_locations(session, [location_row(lead_id, location, birth_date, interests, now)])
