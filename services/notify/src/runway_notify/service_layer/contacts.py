"""The contact projection, fed by intake's lead events."""

from __future__ import annotations

from datetime import UTC, datetime

from runway_contracts.intake import LeadReceived
from runway_eventbus.inbox import Inbox
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters.tables import contacts
from runway_storage import upsert


def record_lead(event_id: str, event: LeadReceived, uow: UnitOfWork, inbox: Inbox) -> None:
    with uow:
        if not inbox.first_delivery(uow.session, event_id):
            return
        lead = event.lead
        row = {
            "lead_id": lead.lead_id,
            "email": lead.email,
            "phone": lead.phone,
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "postal_code": lead.postal_code,
            "email_consent": lead.email_consent.model_dump(mode="json") if lead.email_consent else None,
            "sms_consent": lead.sms_consent.model_dump(mode="json") if lead.sms_consent else None,
            "updated_at": datetime.now(UTC),
        }
        upsert(uow.session, contacts, row, key=["lead_id"])
        uow.commit()
