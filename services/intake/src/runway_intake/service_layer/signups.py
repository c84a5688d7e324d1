"""Accepting a sign-up: find or create the person's lead, store the submission, stage the event."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from runway_contracts.intake import ChannelConsent, LeadReceived, LeadView
from runway_eventbus.unit_of_work import UnitOfWork
from runway_intake.adapters.tables import leads, submissions
from runway_intake.domain.contact_details import email_identity
from runway_intake.domain.signup import Consent, Signup, merged_values


class Accepted:
    def __init__(self, lead_id: str, submission_id: str, is_new_lead: bool) -> None:
        self.lead_id = lead_id
        self.submission_id = submission_id
        self.is_new_lead = is_new_lead


def accept_signup(signup: Signup, uow_factory: Any, attempts: int = 3) -> Accepted:
    """Commit the submission, its lead and `intake.lead.received.v1` together.

    Two first submissions from one person racing each other both try to insert
    the lead; the unique constraint lets one win and the other retries, finds
    the lead, and joins it.
    """
    for attempt in range(attempts):
        try:
            with uow_factory() as uow:
                accepted = _accept(signup, uow)
                uow.commit()
                return accepted
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _find_lead(session: Any, signup: Signup) -> dict[str, Any] | None:
    email_key = email_identity(signup.email) if signup.email else None
    for column, value in ((leads.c.email_key, email_key), (leads.c.phone, signup.phone)):
        if value:
            row = session.execute(sa.select(leads).where(column == value)).mappings().first()
            if row:
                return dict(row)
    return None


def _consent_json(consent: Consent | None) -> dict[str, Any] | None:
    if consent is None:
        return None
    return {**asdict(consent), "recorded_at": consent.recorded_at.isoformat()}


def _accept(signup: Signup, uow: UnitOfWork) -> Accepted:
    session = uow.session
    now = datetime.now(UTC)
    existing = _find_lead(session, signup)
    if existing is None:
        lead_id = str(uuid.uuid4())
        session.execute(
            leads.insert().values(
                id=lead_id,
                email=signup.email,
                email_key=email_identity(signup.email) if signup.email else None,
                phone=signup.phone,
                first_name=signup.first_name,
                last_name=signup.last_name,
                postal_code=signup.postal_code,
                birth_date=signup.birth_date,
                interests=sorted(signup.interests),
                tags=sorted(signup.tags),
                email_consent=_consent_json(signup.email_consent),
                sms_consent=_consent_json(signup.sms_consent),
                created_at=now,
                updated_at=now,
            )
        )
    else:
        lead_id = existing["id"]
        updates = merged_values(existing, signup)
        # Fill in a missing identifier only; never take over another person's.
        if signup.email and not existing["email"]:
            key = email_identity(signup.email)
            if not _taken(session, leads.c.email_key, key):
                updates |= {"email": signup.email, "email_key": key}
        if signup.phone and not existing["phone"] and not _taken(session, leads.c.phone, signup.phone):
            updates["phone"] = signup.phone
        for name in ("email_consent", "sms_consent"):
            if getattr(signup, name) is not None:
                updates[name] = _consent_json(getattr(signup, name))
        if updates:
            session.execute(leads.update().where(leads.c.id == lead_id).values(**updates, updated_at=now))
    submission_id = str(uuid.uuid4())
    session.execute(
        submissions.insert().values(
            id=submission_id,
            form_key=signup.form_key,
            lead_id=lead_id,
            payload=signup.raw,
            ip=signup.ip,
            user_agent=signup.user_agent,
            received_at=signup.received_at,
        )
    )
    lead = session.execute(sa.select(leads).where(leads.c.id == lead_id)).mappings().one()
    uow.outbox.stage(
        session,
        LeadReceived(
            submission_id=submission_id,
            form_key=signup.form_key,
            is_new_lead=existing is None,
            received_at=signup.received_at,
            lead=lead_view(lead),
        ),
        subject_id=lead_id,
    )
    return Accepted(lead_id, submission_id, existing is None)


def _taken(session: Any, column: sa.Column[str], value: str) -> bool:
    return session.execute(sa.select(leads.c.id).where(column == value)).first() is not None


def lead_view(row: Any) -> LeadView:
    return LeadView(
        lead_id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        phone=row["phone"],
        postal_code=row["postal_code"],
        birth_date=row["birth_date"],
        interests=list(row["interests"]),
        tags=list(row["tags"]),
        email_consent=ChannelConsent(**row["email_consent"]) if row["email_consent"] else None,
        sms_consent=ChannelConsent(**row["sms_consent"]) if row["sms_consent"] else None,
    )
