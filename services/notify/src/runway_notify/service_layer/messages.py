"""Which email each event becomes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import sqlalchemy as sa

from runway_contracts.donations import ContributionFailed, ContributionSucceeded
from runway_contracts.matching import LeadMatched
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters.tables import contacts
from runway_notify.domain.notifications import EmailNotification, may_email, notification_key, races_subject


class ContactNotYetKnown(LookupError):
    """The lead's contact details have not arrived yet; the event is retried."""


def _contact(uow_factory: Callable[[], UnitOfWork], lead_id: str) -> dict[str, Any] | None:
    with uow_factory() as uow:
        row = uow.session.execute(sa.select(contacts).where(contacts.c.lead_id == lead_id)).mappings().first()
        return dict(row) if row else None


def _skip(uow_factory: Callable[[], UnitOfWork], inbox: Inbox, event_id: str) -> None:
    with uow_factory() as uow:
        inbox.first_delivery(uow.session, event_id)
        uow.commit()


async def races_near_you(
    event_id: str,
    event: LeadMatched,
    uow_factory: Callable[[], UnitOfWork],
    inbox: Inbox,
    org: dict[str, str],
) -> EmailNotification | None:
    contact = await anyio.to_thread.run_sync(_contact, uow_factory, event.lead_id)
    if contact is None:
        raise ContactNotYetKnown(event.lead_id)
    if not contact["email"] or not may_email(contact["email_consent"], transactional=False):
        await anyio.to_thread.run_sync(_skip, uow_factory, inbox, event_id)
        return None
    subject = races_subject([r.race_id for r in event.races]) if event.races else "none"
    return EmailNotification(
        key=notification_key("races_near_you", event.lead_id, subject),
        message_type="races_near_you",
        lead_id=event.lead_id,
        recipient=contact["email"],
        template="races_near_you",
        context={
            "first_name": contact["first_name"],
            "postal_code": event.postal_code,
            "resolved": event.location_resolved,
            "location": event.location_summary,
            "total": event.total_races,
            "races": event.races,
            "sample": any(r.sample_data for r in event.races),
            **org,
        },
        transactional=False,
    )


def donation_receipt(event: ContributionSucceeded, org: dict[str, str]) -> EmailNotification | None:
    if not event.donor.email:
        return None
    return EmailNotification(
        key=notification_key("donation_receipt", event.donor.donor_id, event.contribution_id),
        message_type="donation_receipt",
        lead_id=None,
        recipient=event.donor.email,
        template="donation_receipt",
        context={
            "first_name": event.donor.first_name,
            "amount_cents": event.amount_cents,
            "currency": event.currency,
            "recurring": event.recurring,
            "paid_at": event.paid_at,
            "reference": event.provider_payment_id,
            **org,
        },
        transactional=True,
    )


def payment_failed(event: ContributionFailed, org: dict[str, str]) -> EmailNotification | None:
    """One notice per failed attempt, with the provider's link to fix the payment."""
    if not event.donor.email:
        return None
    return EmailNotification(
        key=notification_key(
            "payment_failed",
            event.donor.donor_id,
            f"{event.provider}:{event.provider_payment_id}:{event.attempt}",
        ),
        message_type="payment_failed",
        lead_id=None,
        recipient=event.donor.email,
        template="payment_failed",
        context={
            "first_name": event.donor.first_name,
            "amount_cents": event.amount_cents,
            "currency": event.currency,
            "recurring": event.plan_id is not None,
            "attempt": event.attempt,
            "retry_url": event.retry_url,
            "next_attempt_at": event.next_attempt_at,
            "reference": event.provider_payment_id,
            **org,
        },
        transactional=True,  # about money the donor gave: sent even after a marketing opt-out
    )
