"""The delivery log: what was sent to someone, when, on which channel, and how it went."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_notify.adapters.tables import contacts, deliveries, delivery_attempts


def addresses_of(session: Session, contact: str) -> tuple[list[str], list[str]]:
    """(lead ids, addresses) a contact reference names: a lead id, an email or a phone number."""
    lead_ids = set(
        session.execute(
            sa.select(contacts.c.lead_id).where(
                sa.or_(
                    contacts.c.lead_id == contact,
                    contacts.c.email == contact.lower(),
                    contacts.c.phone == contact,
                    contacts.c.merged_into == contact,
                )
            )
        ).scalars()
    )
    return sorted(lead_ids), [contact, contact.lower()]


def notifications_for(session: Session, contact: str, limit: int = 200) -> list[dict[str, Any]]:
    lead_ids, addresses = addresses_of(session, contact)
    rows = (
        session.execute(
            sa.select(deliveries)
            .where(sa.or_(deliveries.c.lead_id.in_(lead_ids), deliveries.c.recipient.in_(addresses)))
            .order_by(deliveries.c.created_at.desc())
            .limit(limit)
        )
        .mappings()
        .all()
    )
    ids = [row["id"] for row in rows]
    attempts: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for a in session.execute(
        sa.select(delivery_attempts)
        .where(delivery_attempts.c.delivery_id.in_(ids))
        .order_by(delivery_attempts.c.id)
    ).mappings():
        attempts[a["delivery_id"]].append(
            {
                "attempt": a["attempt"],
                "at": a["at"],
                "route": a["route"],
                "outcome": a["outcome"],
                "detail": a["detail"],
            }
        )
    return [
        {
            "id": row["id"],
            "notification_key": row["notification_key"],
            "message_type": row["message_type"],
            "channel": row["channel"],
            "lead_id": row["lead_id"],
            "recipient": row["recipient"],
            "status": row["status"],
            "reason": row["last_error"],
            "created_at": row["created_at"],
            "due_at": row["due_at"],
            "sent_at": row["sent_at"],
            "attempts": attempts[row["id"]],
        }
        for row in rows
    ]
