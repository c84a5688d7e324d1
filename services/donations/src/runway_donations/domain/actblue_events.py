"""What an ActBlue webhook means for Runway.

ActBlue posts one notification per line item, to one URL per webhook type
(contributions, refunds, recurring cancellations), all in the same shape:
`donor`, `contribution` (its `orderNumber` repeats across a recurring series:
it is the plan), `lineitems[]` (each `lineitemId` is one payment), `form`.
Amounts are decimal strings in dollars.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runway_donations.domain.facts import (
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
from runway_donations.domain.money import cents
from runway_donations.domain.times import utc_from_iso

PROVIDER = "actblue"
KINDS = ("contribution", "refund", "cancellation")
INTERVAL = {
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "annually": "year",
    "yearly": "year",
}


def event_id(kind: str, payload: dict[str, Any]) -> str:
    """The raw event's identity: the type and its line items (the same line item comes back refunded)."""
    try:
        items = sorted(str(item["lineitemId"]) for item in payload["lineitems"])
    except (KeyError, TypeError) as error:
        raise MalformedEvent(f"lineitems[].lineitemId: {error!r}") from None
    if not items:
        raise MalformedEvent("lineitems is empty")
    return f"{kind}:{','.join(items)}"


def _donor(payload: dict[str, Any], at: datetime) -> Donor:
    d = payload.get("donor") or {}
    employer = d.get("employerData") or {}
    return Donor(
        provider=PROVIDER,
        customer_ref=None,
        email=d.get("email"),
        phone=d.get("phone"),
        first_name=d.get("firstname"),
        last_name=d.get("lastname"),
        street=d.get("addr1"),
        city=d.get("city"),
        state=d.get("state"),
        postal_code=d.get("zip"),
        country=d.get("country"),
        employer=employer.get("employer"),
        occupation=employer.get("occupation"),
        as_of=at,
    )


def interpret(kind: str, payload: dict[str, Any]) -> Interpretation:
    try:
        return _interpret(kind, payload)
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedEvent(f"actblue {kind}: {error!r}") from None


def _interpret(kind: str, payload: dict[str, Any]) -> Interpretation:
    contribution = payload["contribution"]
    created = utc_from_iso(contribution["createdAt"])
    donor = _donor(payload, created)
    period = contribution.get("recurringPeriod") or "once"
    plan = str(contribution["orderNumber"]) if period != "once" else None
    refcode = contribution.get("refcode") or (contribution.get("refcodes") or {}).get("refcode")
    facts: list[Fact] = []
    if kind == "cancellation":
        if plan is None:
            raise ValueError("a cancellation for a contribution that is not recurring")
        at = utc_from_iso(contribution.get("cancelledAt") or created)
        facts.append(PlanCanceled(PROVIDER, plan, donor, "donor", at, contribution.get("cancellationReason")))
        return Interpretation(facts)
    for item in payload["lineitems"]:
        payment = str(item["lineitemId"])
        amount = cents(item["amount"])
        if kind == "refund":
            at = utc_from_iso(item.get("refundedAt") or contribution.get("refundedAt") or created)
            refunded = cents(item.get("refundedAmount") or item["amount"])
            facts.append(Refunded(PROVIDER, f"refund:{payment}", payment, abs(refunded), "usd", at))
        elif contribution.get("status") == "declined":
            facts.append(
                PaymentFailed(
                    PROVIDER,
                    payment,
                    donor,
                    amount,
                    "usd",
                    1,
                    created,
                    plan_ref=plan,
                    retry_url=contribution.get("retryUrl"),
                )
            )
        elif contribution.get("status", "approved") == "approved":
            paid = utc_from_iso(item.get("paidAt") or created)
            less_fees = item.get("amountLessAbFees")
            facts.append(
                PaymentSucceeded(
                    PROVIDER,
                    payment,
                    donor,
                    amount,
                    "usd",
                    paid,
                    plan_ref=plan,
                    fee_cents=amount - cents(less_fees) if less_fees is not None else None,
                    refcode=refcode,
                    committee=item.get("committeeName"),
                )
            )
            if plan is not None:
                facts.append(
                    PlanReported(
                        PROVIDER,
                        plan,
                        donor,
                        cents(item.get("recurringAmount") or item["amount"]),
                        "usd",
                        INTERVAL.get(period, "month"),
                        "active",
                        paid,
                    )
                )
    return Interpretation(facts)
