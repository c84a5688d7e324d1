"""Opting an address out: suppress it at once and tell the other services."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from runway_contracts.notify import ContactOptedOut
from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters.tables import contacts, suppressions
from runway_storage import insert_if_absent


def opt_out(uow: UnitOfWork, channel: str, address: str, source: str) -> bool:
    """True if this changed anything (a repeated click is harmless)."""
    with uow:
        session = uow.session
        now = datetime.now(UTC)
        created = insert_if_absent(
            session,
            suppressions,
            {"channel": channel, "address": address, "reason": source, "created_at": now},
        )
        if not created:
            return False
        column = contacts.c.email if channel == "email" else contacts.c.phone
        lead_id = session.scalar(sa.select(contacts.c.lead_id).where(column == address))
        uow.outbox.stage(
            session,
            ContactOptedOut(
                channel=channel, address=address, lead_id=lead_id, source=source, opted_out_at=now
            ),  # type: ignore[arg-type]
            subject_id=lead_id or address,
        )
        uow.commit()
        return True
