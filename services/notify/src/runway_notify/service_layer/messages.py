"""Which messages each event becomes, queued in the handler's transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.donations import ContributionFailed, ContributionSucceeded, DonorRef, RecurringCanceled
from runway_contracts.intake import LeadReceived
from runway_contracts.matching import DeadlineApproaching, LeadMatched, LeadRaceNearby
from runway_notify.adapters.tables import deliveries, digest_items
from runway_notify.domain import message_types as types
from runway_notify.domain.message_types import MessageType
from runway_notify.domain.notifications import Notification, notification_key, races_subject
from runway_notify.service_layer.contacts import Later, find_contact, record_lead
from runway_notify.service_layer.queue import enqueue
from runway_storage import insert_if_absent

# Where a person's zone is unknown, their day is taken to be Eastern time's.
DEFAULT_DAY_ZONE = "America/New_York"
CLAIMED = ("sending", "sent", "delivered", "failed")


class ContactNotYetKnown(LookupError):
    """The lead's contact details have not arrived yet: the event waits for them
    (service_layer/awaiting.py).

    Raised by `_contact`, which each plan calls before it writes anything."""

    def __init__(self, lead_id: str) -> None:
        super().__init__(lead_id)
        self.lead_id = lead_id


def _for_contact(
    session: Session,
    contact: dict[str, Any],
    message_type: MessageType,
    subject: str,
    context: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> int:
    """Queue the message on each of its channels; how many were queued."""
    queued = 0
    for channel in message_type.channels:
        address, consent = (
            (contact["email"], contact["email_consent"])
            if channel == "email"
            else (contact["phone"], contact["sms_consent"])
        )
        note = Notification(
            key=notification_key(message_type.name, contact["lead_id"], subject, channel),
            message_type=message_type.name,
            channel=channel,
            lead_id=contact["lead_id"],
            recipient=address,
            context={"first_name": contact["first_name"], **context},
            transactional=message_type.transactional,
        )
        queued += enqueue(
            session, note, consent=consent, time_zone=contact["time_zone"], now=now, not_before=not_before
        )
    return queued


def _contact(session: Session, lead_id: str) -> dict[str, Any]:
    contact = find_contact(session, lead_id)
    if contact is None:
        raise ContactNotYetKnown(lead_id)
    return contact


def lead_received(session: Session, event: LeadReceived, now: datetime, org: dict[str, str]) -> int | Later:
    def welcome(contact: dict[str, Any] | None) -> int:
        if contact is None or not event.is_new_lead:
            return 0
        context = {"postal_code": contact["postal_code"], **org}
        return _for_contact(session, contact, types.WELCOME, "welcome", context, now)

    return record_lead(session, event.lead, now, then=welcome)


def races_near_you(session: Session, event: LeadMatched, now: datetime, org: dict[str, str]) -> int:
    contact = _contact(session, event.lead_id)
    subject = races_subject([r.race_id for r in event.races]) if event.races else "none"
    context = {
        "postal_code": event.postal_code,
        "resolved": event.location_resolved,
        "location": event.location_summary,
        "total": event.total_races,
        "races": [r.model_dump(mode="json") for r in event.races],
        "sample": any(r.sample_data for r in event.races),
        **org,
    }
    return _for_contact(session, contact, types.RACES_NEAR_YOU, subject, context, now)


def deadline_approaching(
    session: Session, event: DeadlineApproaching, now: datetime, org: dict[str, str]
) -> int:
    contact = _contact(session, event.lead_id)
    context = {"race": event.race.model_dump(mode="json"), "days_left": event.days_left, **org}
    subject = f"{event.race.race_id}:{event.days_left}"
    return _for_contact(session, contact, types.DEADLINE_REMINDER, subject, context, now)


def race_nearby(
    session: Session, event: LeadRaceNearby, now: datetime, org: dict[str, str], digest_hour: int
) -> int:
    """Add the race to the person's digest for the day; the digest goes at `digest_hour` local time.

    A race arriving after that hour, or after the day's digest was already
    taken for sending, joins the next day's. Locking the day's delivery rows
    orders this against the dispatcher claiming them (PostgreSQL; SQLite's
    single writer does the same).
    """
    contact = _contact(session, event.lead_id)
    zone = ZoneInfo(contact["time_zone"] or DEFAULT_DAY_ZONE)
    local = now.astimezone(zone)
    day = local.date() if local.time() < time(digest_hour) else local.date() + timedelta(days=1)
    for _ in range(7):
        if not _digest_claimed(session, contact["lead_id"], day):
            break
        day += timedelta(days=1)
    insert_if_absent(
        session,
        digest_items,
        {
            "lead_id": contact["lead_id"],
            "race_id": event.race.race_id,
            "digest_date": day,
            "race": event.race.model_dump(mode="json"),
            "added_at": now,
        },
    )
    send_at = datetime.combine(day, time(digest_hour), tzinfo=zone).astimezone(UTC)
    context = {"digest_date": day.isoformat(), **org}
    return _for_contact(session, contact, types.NEW_RACE_DIGEST, day.isoformat(), context, now, send_at)


def _digest_claimed(session: Session, lead_id: str, day: date) -> bool:
    keys = [
        notification_key(types.NEW_RACE_DIGEST.name, lead_id, day.isoformat(), channel)
        for channel in types.NEW_RACE_DIGEST.channels
    ]
    statuses = session.execute(
        sa.select(deliveries.c.status).where(deliveries.c.notification_key.in_(keys)).with_for_update()
    ).scalars()
    return any(status in CLAIMED for status in statuses)


def digest_races(session: Session, lead_id: str, digest_date: str) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(digest_items.c.race)
        .where(
            digest_items.c.lead_id == lead_id, digest_items.c.digest_date == date.fromisoformat(digest_date)
        )
        .order_by(digest_items.c.added_at, digest_items.c.race_id)
    ).scalars()
    return list(rows)


def _to_donor(
    session: Session,
    message_type: MessageType,
    donor: DonorRef,
    subject: str,
    context: dict[str, Any],
    now: datetime,
) -> int:
    if not donor.email:
        return 0
    note = Notification(
        key=notification_key(message_type.name, donor.donor_id, subject),
        message_type=message_type.name,
        channel="email",
        lead_id=None,
        recipient=donor.email,
        context={"first_name": donor.first_name, **context},
        transactional=message_type.transactional,
    )
    return enqueue(session, note, consent=None, time_zone=None, now=now)


def donation_receipt(
    session: Session, event: ContributionSucceeded, now: datetime, org: dict[str, str]
) -> int:
    context = {
        "amount_cents": event.amount_cents,
        "currency": event.currency,
        "recurring": event.recurring,
        "paid_at": event.paid_at.isoformat(),
        "reference": event.provider_payment_id,
        **org,
    }
    return _to_donor(session, types.DONATION_RECEIPT, event.donor, event.contribution_id, context, now)


def payment_failed(session: Session, event: ContributionFailed, now: datetime, org: dict[str, str]) -> int:
    """One notice per failed attempt, with the provider's link to fix the payment."""
    context = {
        "amount_cents": event.amount_cents,
        "currency": event.currency,
        "recurring": event.plan_id is not None,
        "attempt": event.attempt,
        "retry_url": event.retry_url,
        "next_attempt_at": event.next_attempt_at.isoformat() if event.next_attempt_at else None,
        "reference": event.provider_payment_id,
        **org,
    }
    subject = f"{event.provider}:{event.provider_payment_id}:{event.attempt}"
    return _to_donor(session, types.PAYMENT_FAILED, event.donor, subject, context, now)


def plan_canceled(session: Session, event: RecurringCanceled, now: datetime, org: dict[str, str]) -> int:
    context = {
        "canceled_by": event.canceled_by,
        "reason": event.reason,
        "reference": event.plan_id,
        **org,
    }
    return _to_donor(
        session, types.PLAN_CANCELED, event.donor, f"{event.provider}:{event.plan_id}", context, now
    )
