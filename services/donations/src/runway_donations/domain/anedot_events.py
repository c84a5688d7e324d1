"""What an Anedot webhook means for Runway.

Anedot signs the body (`X-Request-Signature`, hex HMAC-SHA256 with the
webhook secret) and posts `{"event": <type>, "payload": {...}}`; the payload is
the donation or the commitment (Anedot's recurring plan). The field names
below follow Anedot's webhook documentation; amounts are decimal strings.
"""

from __future__ import annotations

from datetime import datetime
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
from runway_donations.domain.money import cents
from runway_donations.domain.times import utc_from_iso

PROVIDER = "anedot"
INTERVAL = {
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "annually": "year",
    "yearly": "year",
}
COMMITMENT_STATUS = {"active": "active", "pending": "pending", "paused": "pending", "canceled": "canceled"}


def event_id(body: dict[str, Any]) -> str:
    """Anedot's event type and the object's id (plus its update time: a commitment changes often)."""
    try:
        payload = body["payload"]
        return (
            f"{body['event']}:{payload['id']}:{payload.get('updated_at') or payload.get('created_at') or ''}"
        )
    except (KeyError, TypeError) as error:
        raise MalformedEvent(f"event and payload.id are required: {error!r}") from None


def _donor(p: dict[str, Any], at: datetime) -> Donor:
    d = p.get("donor") or {}
    return Donor(
        provider=PROVIDER,
        customer_ref=str(d["id"]) if d.get("id") is not None else None,
        email=d.get("email"),
        phone=d.get("phone"),
        first_name=d.get("first_name"),
        last_name=d.get("last_name"),
        street=d.get("address_line_1"),
        city=d.get("address_city"),
        state=d.get("address_state"),
        postal_code=d.get("address_zip"),
        country=d.get("address_country"),
        employer=d.get("employer"),
        occupation=d.get("occupation"),
        as_of=at,
    )


def interpret(body: dict[str, Any]) -> Interpretation:
    try:
        return _interpret(body["event"], body["payload"])
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedEvent(f"anedot {body.get('event')}: {error!r}") from None


def _interpret(kind: str, p: dict[str, Any]) -> Interpretation:
    at = utc_from_iso(p.get("updated_at") or p["created_at"])
    donor = _donor(p, at)
    currency = str(p.get("currency") or "usd").lower()
    facts: list[Fact] = []
    if kind in ("commitment_created", "commitment_updated"):
        status = COMMITMENT_STATUS.get(str(p.get("status")), "pending")
        facts.append(
            PlanReported(
                PROVIDER,
                str(p["id"]),
                donor,
                cents(p["amount"]),
                currency,
                INTERVAL.get(str(p.get("frequency")), "month"),
                status,
                at,
                utc_from_iso(p["next_charge_at"]) if p.get("next_charge_at") else None,
            )
        )
        if status == "canceled":
            by = "staff" if p.get("canceled_by") == "organization" else "donor"
            facts.append(PlanCanceled(PROVIDER, str(p["id"]), donor, by, at, p.get("cancel_reason")))
    elif kind == "commitment_failed_to_process":
        facts.append(
            PaymentFailed(
                PROVIDER,
                str(p.get("donation_id") or f"{p['id']}:{at.date().isoformat()}"),
                donor,
                cents(p["amount"]),
                currency,
                max(int(p.get("failure_count") or 1), 1),
                at,
                plan_ref=str(p["id"]),
                retry_url=p.get("update_payment_url"),
                next_attempt_at=utc_from_iso(p["next_charge_at"]) if p.get("next_charge_at") else None,
            )
        )
    elif kind == "donation_completed":
        amount = cents(p["amount"])
        net = p.get("net_amount")
        facts.append(
            PaymentSucceeded(
                PROVIDER,
                str(p["id"]),
                donor,
                amount,
                currency,
                utc_from_iso(p["created_at"]),
                plan_ref=str(p["commitment_id"]) if p.get("commitment_id") else None,
                fee_cents=amount - cents(net) if net is not None else None,
                refcode=p.get("referrer") or p.get("refcode"),
                committee=p.get("fund"),
            )
        )
    elif kind in (
        "donation_refunded",
        "donation_partially_refunded",
        "donation_voided",
        "donation_ach_returned",
    ):
        refund = p.get("refund") or {}
        ref = str(refund.get("id") or f"{p['id']}:{kind.removeprefix('donation_')}")
        amount = cents(refund.get("amount") or p.get("refunded_amount") or p["amount"])
        facts.append(Refunded(PROVIDER, ref, str(p["id"]), amount, currency, at))
    elif kind in ("donation_chargeback", "donation_chargeback_reversed"):
        facts.append(
            Disputed(
                PROVIDER,
                f"{p['id']}:chargeback",
                str(p["id"]),
                cents(p.get("chargeback_amount") or p["amount"]),
                currency,
                at,
                reversed=kind.endswith("reversed"),
            )
        )
    else:
        return Interpretation(ignored=True)
    return Interpretation(facts)
