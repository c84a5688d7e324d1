"""What the SMS provider tells us afterwards: delivery receipts and replies."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from runway_eventbus.unit_of_work import UnitOfWork
from runway_notify.adapters.tables import deliveries
from runway_notify.service_layer.composing import Claimed
from runway_notify.service_layer.dispatcher import fail, record_attempt, suppress

FINAL_FAILURES = frozenset({"failed", "undelivered"})
# Carrier error codes that mean the number cannot take texts (unknown, landline).
UNREACHABLE_NUMBER_CODES = frozenset({"30005", "30006"})


def delivery_status(
    uow: UnitOfWork, provider_message_id: str, status: str, error_code: str | None, now: datetime
) -> bool:
    """Apply a status callback; False if no delivery has that provider id.

    Only the final states change anything, and only once: callbacks arrive out
    of order and more than once.
    """
    with uow:
        session = uow.session
        row = (
            session.execute(
                sa.select(deliveries).where(deliveries.c.provider_message_id == provider_message_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return False
        if row["status"] != "sent" or (status != "delivered" and status not in FINAL_FAILURES):
            uow.commit()
            return True
        if status == "delivered":
            session.execute(
                deliveries.update().where(deliveries.c.id == row["id"]).values(status="delivered")
            )
            record_attempt(session, row["id"], row["attempts"], now, "provider-callback", "delivered", None)
        else:
            detail = f"provider reported {status}" + (f" (error {error_code})" if error_code else "")
            permanent = error_code in UNREACHABLE_NUMBER_CODES
            claimed = Claimed.from_row(row)
            fail(session, uow, claimed, "provider-callback", detail, permanent, now)
            if permanent:
                suppress(session, "sms", row["recipient"], "invalid_number", now)
        uow.commit()
        return True
