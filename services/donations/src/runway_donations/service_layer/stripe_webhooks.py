"""Receiving one verified Stripe event: store it once, apply it, stage what follows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.donations import ContributionSucceeded, DonorRef
from runway_donations.adapters.tables import contributions, donors, ledger_entries, webhook_events
from runway_donations.domain.stripe_events import PaidInvoice, paid_invoice
from runway_eventbus.unit_of_work import UnitOfWork
from runway_storage import insert_if_absent

HANDLED = {"invoice.paid"}


def receive_stripe_event(body: bytes, event: dict[str, Any], uow: UnitOfWork) -> str:
    """`stored`, `duplicate` or `ignored`. Committed before the caller answers 2xx."""
    with uow:
        session = uow.session
        row_id = str(uuid.uuid4())
        status = "processed" if event["type"] in HANDLED else "ignored"
        stored = insert_if_absent(
            session,
            webhook_events,
            {
                "id": row_id,
                "provider": "stripe",
                "provider_event_id": event["id"],
                "event_type": event["type"],
                "payload": body,
                "received_at": datetime.now(UTC),
                "status": status,
            },
        )
        if not stored:
            return "duplicate"
        if event["type"] == "invoice.paid":
            _record_paid_invoice(uow, row_id, paid_invoice(event))
        uow.commit()
        return "stored" if status == "processed" else "ignored"


def _donor_id(session: Session, invoice: PaidInvoice) -> str:
    insert_if_absent(
        session,
        donors,
        {
            "id": str(uuid.uuid4()),
            "provider": "stripe",
            "provider_customer_id": invoice.customer_id,
            "email": invoice.email,
            "name": invoice.name,
            "created_at": datetime.now(UTC),
        },
    )
    return str(
        session.scalar(
            sa.select(donors.c.id).where(
                donors.c.provider == "stripe", donors.c.provider_customer_id == invoice.customer_id
            )
        )
    )


def _record_paid_invoice(uow: UnitOfWork, source_event_id: str, invoice: PaidInvoice) -> None:
    session = uow.session
    donor_id = _donor_id(session, invoice)
    contribution_id = str(uuid.uuid4())
    created = insert_if_absent(
        session,
        contributions,
        {
            "id": contribution_id,
            "provider": "stripe",
            "provider_payment_id": invoice.invoice_id,
            "donor_id": donor_id,
            "amount_cents": invoice.amount_cents,
            "currency": invoice.currency,
            "recurring_plan_ref": invoice.subscription_id,
            "paid_at": invoice.paid_at,
        },
    )
    if not created:  # the same invoice reached us under another event id
        return
    session.execute(
        ledger_entries.insert().values(
            id=str(uuid.uuid4()),
            contribution_id=contribution_id,
            donor_id=donor_id,
            kind="contribution",
            amount_cents=invoice.amount_cents,
            currency=invoice.currency,
            source_event_id=source_event_id,
            recorded_at=datetime.now(UTC),
        )
    )
    first, _, last = (invoice.name or "").partition(" ")
    uow.outbox.stage(
        session,
        ContributionSucceeded(
            contribution_id=contribution_id,
            provider="stripe",
            provider_payment_id=invoice.invoice_id,
            donor=DonorRef(
                donor_id=donor_id, email=invoice.email, first_name=first or None, last_name=last or None
            ),
            amount_cents=invoice.amount_cents,
            currency=invoice.currency,
            recurring=invoice.subscription_id is not None,
            plan_id=invoice.subscription_id,
            paid_at=invoice.paid_at,
        ),
        subject_id=contribution_id,
    )


def parse_event(body: bytes) -> dict[str, Any]:
    event = json.loads(body)
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise ValueError("not a Stripe event: needs string 'id' and 'type'")
    return event
