"""Donors linked to intake's leads: the same person by email or phone.

Donations keeps its own small projection of intake's leads (`lead_contacts`,
fed by `intake.lead.received.v1` and `intake.lead.merged.v1`) and never reads
intake's tables. Whichever comes first — the lead or the gift — the donor ends
up linked; a merge moves the link to the surviving lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.intake import LeadView
from runway_donations.adapters.tables import donors, lead_contacts
from runway_donations.domain.facts import email_key, phone_key
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_storage import upsert_many

# Both of a donor's contacts in one round trip (a key given as None matches nothing).
LEADS_BY_CONTACTS = sa.select(lead_contacts.c.kind, lead_contacts.c.lead_id).where(
    sa.or_(
        sa.and_(lead_contacts.c.kind == "email", lead_contacts.c.value == sa.bindparam("email")),
        sa.and_(lead_contacts.c.kind == "phone", lead_contacts.c.value == sa.bindparam("phone")),
    )
)
# Built once: a statement built per call is traversed again for its cache key every time,
# which for every lead event cost more than running it. One statement for both contacts:
# linking by email and then by phone leaves the same rows as linking by either at once
# (a key given as None matches nothing).
_LINK_UNLINKED = (
    donors.update()
    .where(
        donors.c.lead_id.is_(None),
        sa.or_(
            donors.c.donor_key == sa.bindparam("b_donor_key"),
            donors.c.phone_key == sa.bindparam("b_phone_key"),
        ),
    )
    .values(lead_id=sa.bindparam("b_lead_id"))
)


def find_lead_of_donor(session: Session, donor_key: str, donor_phone_key: str | None) -> str | None:
    """The lead a donor (not linked yet) is, by the donor's email, else by phone."""
    email = donor_key.removeprefix("email:") if donor_key.startswith("email:") else None
    if email is None and not donor_phone_key:
        return None
    rows = session.execute(LEADS_BY_CONTACTS, {"email": email, "phone": donor_phone_key})
    found = {kind: lead_id for kind, lead_id in rows}
    lead = found.get("email") or found.get("phone")  # email first: it is how donors are told apart
    return str(lead) if lead is not None else None


def record_lead(
    uow: UnitOfWork, inbox: Inbox, message_id: str, lead: LeadView, merged_lead_ids: list[str] | None = None
) -> bool:
    """One lead event in a transaction of its own; False for a redelivery."""
    with uow:
        if not inbox.first_delivery(uow.session, message_id):
            return False
        link_lead(uow.session, lead, merged_lead_ids or [], datetime.now(UTC))
        uow.commit()
        return True


def link_lead(session: Session, lead: LeadView, merged_lead_ids: list[str], now: datetime) -> None:
    """The lead's email and phone, and any donor they identify, in the caller's transaction."""
    if merged_lead_ids:
        gone = lead_contacts.c.lead_id.in_(merged_lead_ids)
        session.execute(lead_contacts.update().where(gone).values(lead_id=lead.lead_id, updated_at=now))
        session.execute(
            donors.update().where(donors.c.lead_id.in_(merged_lead_ids)).values(lead_id=lead.lead_id)
        )
    link_leads(session, [lead], now)


def link_leads(session: Session, leads: Sequence[LeadView], now: datetime) -> None:
    """`link_lead` for each lead in turn (none of them a merge), in two statements.

    The same rows as one lead after the other: of two leads giving one contact the later
    keeps it, and a donor goes to the first lead that identifies it — the links run in
    the leads' order (one executemany), and every lead's contacts are written before any
    link, which no link reads. On PostgreSQL each statement is a round trip, and a lead
    event took two to four of them.
    """
    contacts: dict[tuple[str, str], dict[str, object]] = {}
    links = []
    for lead in leads:
        email, phone = email_key(lead.email), phone_key(lead.phone)
        for kind, value in (("email", email), ("phone", phone)):
            if value:
                contacts[(kind, value)] = {
                    "kind": kind,
                    "value": value,
                    "lead_id": lead.lead_id,
                    "updated_at": now,
                }
        if email or phone:
            links.append(
                {
                    "b_donor_key": f"email:{email}" if email else None,
                    "b_phone_key": phone,
                    "b_lead_id": lead.lead_id,
                }
            )
    upsert_many(session, lead_contacts, list(contacts.values()), key=["kind", "value"])
    if links:
        session.execute(_LINK_UNLINKED, links)
