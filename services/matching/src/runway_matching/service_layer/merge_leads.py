"""When intake finds two leads are one person: the survivor takes over their races and reminders.

Without this, a merged-away lead would keep its own reminders and matches, and the
person would hear about the same race twice. Each (race, offset) reminder stays one row:
if either lead already got it, the survivor has it as sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.intake import LeadMerged
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import lead_divisions, lead_locations, lead_matches, reminders
from runway_matching.service_layer.match_lead import record_location
from runway_storage import insert_many_if_absent

REMINDER_KEY = ("race_id", "days_before")


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
                _move_reminders(session, merged, survivor)
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
    rows = session.execute(
        sa.select(lead_matches.c.race_id, lead_matches.c.matched_at).where(lead_matches.c.lead_id == merged)
    ).all()
    insert_many_if_absent(
        session, lead_matches, [{"lead_id": survivor, "race_id": r, "matched_at": at} for r, at in rows]
    )
    session.execute(lead_matches.delete().where(lead_matches.c.lead_id == merged))


def _move_reminders(session: Session, merged: str, survivor: str) -> None:
    columns = [
        reminders.c.race_id,
        reminders.c.days_before,
        reminders.c.due_at,
        reminders.c.status,
        reminders.c.sent_at,
    ]

    def of(lead_id: str) -> dict[tuple[str, int], sa.Row]:  # type: ignore[type-arg]
        rows = session.execute(sa.select(*columns).where(reminders.c.lead_id == lead_id)).all()
        return {(r.race_id, r.days_before): r for r in rows}

    theirs, ours = of(merged), of(survivor)
    for key, row in theirs.items():
        if key not in ours:
            session.execute(reminders.insert().values(lead_id=survivor, **row._asdict()))
        elif row.status == "sent" and ours[key].status == "scheduled":
            # The person already had this one as the other lead: not again.
            session.execute(
                reminders.update()
                .where(
                    reminders.c.lead_id == survivor,
                    reminders.c.race_id == key[0],
                    reminders.c.days_before == key[1],
                )
                .values(status="sent", sent_at=row.sent_at)
            )
    session.execute(reminders.delete().where(reminders.c.lead_id == merged))
