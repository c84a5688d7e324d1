"""When intake finds two leads are one person: the survivor takes over their races and reminders.

Without this, a merged-away lead would keep its own matches, and the person would hear
about the same race twice. Reminders are scheduled per race and go to the race's matched
leads when due, so moving the matches moves them: one a person already had (as either
lead) has been sent and does not go again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.intake import LeadMerged
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_divisions, lead_locations, lead_matches, races
from runway_matching.service_layer.match_lead import record_location


def merge_leads(
    event_id: str, event: LeadMerged, uow: UnitOfWork, inbox: Inbox, geography: GeographyIndex
) -> bool:
    """Returns False when this event was already handled (a redelivery)."""
    with uow:
        session = uow.session
        if not inbox.first_delivery(session, event_id):
            return False
        survivor = event.survivor_lead_id
        for merged in dict.fromkeys(event.merged_lead_ids):
            if merged != survivor:
                _move_matches(session, merged, survivor)
                for table in (lead_divisions, lead_locations):
                    session.execute(table.delete().where(table.c.lead_id == merged))
        lead = event.lead
        record_location(
            session,
            survivor,
            geography.locate(lead.postal_code),
            lead.birth_date,
            lead.interests,
            datetime.now(UTC),
        )
        uow.commit()
        return True


def _move_matches(session: Session, merged: str, survivor: str) -> None:
    """The survivor keeps one match per race: the earlier one, with reminders if either had them
    (a race's reminders go to everyone matched before it was due, so nobody hears one twice)."""
    ours = {r.race_id: r for r in _matches_of(session, survivor)}
    theirs = _matches_of(session, merged)
    for row in theirs:
        mine = ours.get(row.race_id)
        if mine is None:
            session.execute(lead_matches.insert().values(lead_id=survivor, **row._asdict()))
        elif row.matched_at < mine.matched_at or (row.reminded and not mine.reminded):
            session.execute(
                lead_matches.update()
                .where(lead_matches.c.race_id == row.race_id, lead_matches.c.lead_id == survivor)
                .values(
                    matched_at=min(row.matched_at, mine.matched_at), reminded=row.reminded or mine.reminded
                )
            )
    if theirs:
        session.execute(
            lead_matches.delete().where(
                lead_matches.c.race_id.in_([r.race_id for r in theirs]), lead_matches.c.lead_id == merged
            )
        )


def _matches_of(session: Session, lead_id: str) -> list[sa.Row]:  # type: ignore[type-arg]
    """The lead's matches, found by key: every race a lead is matched to is in one of the
    lead's divisions (matching goes from divisions to races), so no index by lead is needed."""
    in_their_divisions = sa.select(races.c.id).where(
        races.c.division_id.in_(
            sa.select(lead_divisions.c.division_id).where(lead_divisions.c.lead_id == lead_id)
        )
    )
    return list(
        session.execute(
            sa.select(lead_matches.c.race_id, lead_matches.c.matched_at, lead_matches.c.reminded).where(
                lead_matches.c.race_id.in_(in_their_divisions), lead_matches.c.lead_id == lead_id
            )
        ).all()
    )
