"""What a verified Stripe event means for Runway.

Used: customer.subscription.created|updated|deleted, invoice.paid and
invoice.payment_succeeded (the same payment, told twice), invoice.payment_failed
(once per retry attempt), charge.succeeded (one-off gifts, not invoices),
charge.refunded, charge.dispute.created and charge.dispute.closed (won). Every
other type is verified, stored and ignored.

A refund or dispute names a charge; an invoice names its charge (and payment
intent) too, and the contribution keeps those as aliases, so a refund that
arrives before its invoice still finds it once both are in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from runway_donations.domain.facts import (
    Disputed,
    Donor,
    Fact,
    Interpretation,
    MalformedEvent,
    PaymentFailed,
    PaymentSucceeded,
    PlanCanceled,
    PlanReported,
    Refunded,
)

PROVIDER = "stripe"
SUBSCRIPTION_STATUS = {
    "trialing": "active",
    "active": "active",
    "incomplete": "pending",
    "past_due": "past_due",
    "unpaid": "unpaid",
    "canceled": "canceled",
    "incomplete_expired": "canceled",
    "paused": "pending",
}
CANCELED_BY = {"cancellation_requested": "donor", "payment_failed": "dunning", "payment_disputed": "provider"}


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if isinstance(value, int | float) and value else None


def _donor(obj: dict[str, Any], at: datetime) -> Donor:
    address = obj.get("customer_address") or (obj.get("billing_details") or {}).get("address") or {}
    name = obj.get("customer_name") or (obj.get("billing_details") or {}).get("name") or ""
    first, _, last = name.strip().partition(" ")
    customer = obj.get("customer")
    return Donor(
        provider=PROVIDER,
        customer_ref=customer if isinstance(customer, str) else None,
        email=obj.get("customer_email") or (obj.get("billing_details") or {}).get("email"),
        phone=obj.get("customer_phone") or (obj.get("billing_details") or {}).get("phone"),
        first_name=first or None,
        last_name=last or None,
        street=address.get("line1"),
        city=address.get("city"),
        state=address.get("state"),
        postal_code=address.get("postal_code"),
        country=address.get("country"),
        as_of=at,
    )


def _subscription_of(invoice: dict[str, Any]) -> str | None:
    # Older API versions put it at the top; newer ones under parent.subscription_details.
    if isinstance(invoice.get("subscription"), str):
        return str(invoice["subscription"])
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription")


def _refcode(obj: dict[str, Any]) -> str | None:
    metadata = obj.get("metadata") or {}
    return metadata.get("refcode") if isinstance(metadata, dict) else None


def _price(subscription: dict[str, Any]) -> tuple[int, str, str]:
    items = (subscription.get("items") or {}).get("data") or []
    if items:
        price = items[0].get("price") or items[0].get("plan") or {}
        quantity = int(items[0].get("quantity") or 1)
        amount = int(price.get("unit_amount") or price.get("amount") or 0) * quantity
        interval = (price.get("recurring") or {}).get("interval") or price.get("interval") or "month"
        return amount, str(price.get("currency") or "usd"), str(interval)
    plan = subscription.get("plan") or {}
    return (
        int(plan.get("amount") or 0),
        str(plan.get("currency") or "usd"),
        str(plan.get("interval") or "month"),
    )


def interpret(event: dict[str, Any]) -> Interpretation:
    try:
        return _interpret(event)
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedEvent(f"{event.get('type')}: {error!r}") from None


def _interpret(event: dict[str, Any]) -> Interpretation:
    kind = event["type"]
    obj = event["data"]["object"]
    at = _time(event.get("created")) or datetime.now(UTC)
    facts: list[Fact] = []
    if kind in (
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ):
        amount, currency, interval = _price(obj)
        donor = Donor(PROVIDER, obj.get("customer"), as_of=at)
        items = (obj.get("items") or {}).get("data") or [{}]
        period_end = obj.get("current_period_end") or items[0].get("current_period_end")
        status = "canceled" if kind.endswith("deleted") else SUBSCRIPTION_STATUS.get(obj["status"], "pending")
        facts.append(
            PlanReported(
                PROVIDER, obj["id"], donor, amount, currency.lower(), interval, status, at, _time(period_end)
            )
        )
        if status == "canceled":
            details = obj.get("cancellation_details") or {}
            facts.append(
                PlanCanceled(
                    PROVIDER,
                    obj["id"],
                    donor,
                    CANCELED_BY.get(details.get("reason") or "", "provider"),
                    _time(obj.get("canceled_at")) or _time(obj.get("ended_at")) or at,
                    details.get("comment") or details.get("feedback"),
                )
            )
    elif kind in ("invoice.paid", "invoice.payment_succeeded"):
        if int(obj["amount_paid"]) > 0:  # a $0 invoice (a trial) moves no money
            paid = _time((obj.get("status_transitions") or {}).get("paid_at")) or at
            facts.append(
                PaymentSucceeded(
                    PROVIDER,
                    obj["id"],
                    _donor(obj, paid),
                    int(obj["amount_paid"]),
                    str(obj["currency"]).lower(),
                    paid,
                    plan_ref=_subscription_of(obj),
                    refcode=_refcode(obj),
                    aliases=tuple(
                        a for a in (obj.get("charge"), obj.get("payment_intent")) if isinstance(a, str)
                    ),
                )
            )
    elif kind == "invoice.payment_failed":
        facts.append(
            PaymentFailed(
                PROVIDER,
                obj["id"],
                _donor(obj, at),
                int(obj.get("amount_due") or 0),
                str(obj["currency"]).lower(),
                max(int(obj.get("attempt_count") or 1), 1),
                at,
                plan_ref=_subscription_of(obj),
                retry_url=obj.get("hosted_invoice_url"),
                next_attempt_at=_time(obj.get("next_payment_attempt")),
            )
        )
    elif kind == "charge.succeeded":
        if not obj.get("invoice"):  # invoice payments are counted from their invoice
            paid = _time(obj.get("created")) or at
            facts.append(
                PaymentSucceeded(
                    PROVIDER,
                    obj["id"],
                    _donor(obj, paid),
                    int(obj["amount"]),
                    str(obj["currency"]).lower(),
                    paid,
                    refcode=_refcode(obj),
                    aliases=tuple(a for a in (obj.get("payment_intent"),) if isinstance(a, str)),
                )
            )
    elif kind == "charge.refunded":
        payment = obj["id"]
        for refund in (obj.get("refunds") or {}).get("data") or []:
            facts.append(
                Refunded(
                    PROVIDER,
                    refund["id"],
                    payment,
                    int(refund["amount"]),
                    str(refund.get("currency") or obj["currency"]).lower(),
                    _time(refund.get("created")) or at,
                )
            )
        if not facts:
            raise MalformedEvent("charge.refunded without refunds.data: expand `refunds` on the webhook")
    elif kind in ("charge.dispute.created", "charge.dispute.closed"):
        won = kind.endswith("closed") and obj.get("status") == "won"
        if kind.endswith("created") or won:
            facts.append(
                Disputed(
                    PROVIDER,
                    obj["id"],
                    obj["charge"],
                    int(obj["amount"]),
                    str(obj["currency"]).lower(),
                    _time(obj.get("created")) or at if not won else at,
                    reversed=won,
                )
            )
    else:
        return Interpretation(ignored=True)
    return Interpretation(facts)
