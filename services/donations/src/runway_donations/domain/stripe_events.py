"""What a verified Stripe event means for Runway."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class PaidInvoice:
    invoice_id: str
    customer_id: str
    email: str | None
    name: str | None
    amount_cents: int
    currency: str
    subscription_id: str | None
    paid_at: datetime


def _subscription(invoice: dict[str, Any]) -> str | None:
    # Older API versions put it at the top; newer ones under parent.subscription_details.
    if isinstance(invoice.get("subscription"), str):
        return invoice["subscription"]
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription")


def paid_invoice(event: dict[str, Any]) -> PaidInvoice:
    invoice = event["data"]["object"]
    paid = (invoice.get("status_transitions") or {}).get("paid_at") or event["created"]
    return PaidInvoice(
        invoice_id=invoice["id"],
        customer_id=invoice.get("customer") or f"email:{invoice.get('customer_email')}",
        email=invoice.get("customer_email"),
        name=invoice.get("customer_name"),
        amount_cents=int(invoice["amount_paid"]),
        currency=str(invoice["currency"]).lower(),
        subscription_id=_subscription(invoice),
        paid_at=datetime.fromtimestamp(int(paid), UTC),
    )
