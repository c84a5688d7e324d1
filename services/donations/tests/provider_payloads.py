"""Realistic provider webhook bodies for tests and benchmarks (shapes as the providers send them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

BASE = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def ts(day: float) -> int:
    return int((BASE + timedelta(days=day)).timestamp())


def iso(day: float, offset_hours: int = -5) -> str:
    """ActBlue and Anedot send local times with an offset."""
    return (BASE + timedelta(days=day)).astimezone(timezone(timedelta(hours=offset_hours))).isoformat()


# -- Stripe ------------------------------------------------------------------


def stripe_event(event_id: str, kind: str, obj: dict[str, Any], day: float) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": ts(day),
        "livemode": False,
        "type": kind,
        "data": {"object": obj},
    }


def stripe_subscription(
    sub: str,
    customer: str,
    status: str,
    amount: int,
    day: float,
    *,
    interval: str = "month",
    canceled: bool = False,
) -> dict[str, Any]:
    return {
        "id": sub,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "current_period_end": ts(day + 30),
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub}",
                    "quantity": 1,
                    "price": {
                        "id": "price_x",
                        "unit_amount": amount,
                        "currency": "usd",
                        "recurring": {"interval": interval},
                    },
                }
            ],
        },
        "canceled_at": ts(day) if canceled else None,
        "cancellation_details": {"reason": "cancellation_requested", "comment": "moving abroad"}
        if canceled
        else None,
    }


def stripe_invoice(
    invoice: str,
    sub: str | None,
    customer: str,
    email: str,
    amount: int,
    day: float,
    *,
    paid: bool = True,
    attempt: int = 1,
    name: str = "Ada Lovelace",
) -> dict[str, Any]:
    return {
        "id": invoice,
        "object": "invoice",
        "customer": customer,
        "customer_email": email,
        "customer_name": name,
        "customer_address": {
            "line1": "1 Main St",
            "city": "Lawrence",
            "state": "KS",
            "postal_code": "66044",
            "country": "US",
        },
        "subscription": sub,
        "charge": f"ch_{invoice}",
        "payment_intent": f"pi_{invoice}",
        "amount_paid": amount if paid else 0,
        "amount_due": amount,
        "currency": "usd",
        "attempt_count": attempt,
        "next_payment_attempt": None if paid else ts(day + 3),
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice}",
        "status": "paid" if paid else "open",
        "status_transitions": {"paid_at": ts(day) if paid else None},
        "billing_reason": "subscription_cycle" if sub else "manual",
        "metadata": {"refcode": "email-jan"},
    }


def stripe_refunded_charge(
    invoice: str, refunds: list[tuple[str, int, float]], amount: int
) -> dict[str, Any]:
    return {
        "id": f"ch_{invoice}",
        "object": "charge",
        "invoice": invoice,
        "amount": amount,
        "amount_refunded": sum(r[1] for r in refunds),
        "currency": "usd",
        "refunded": sum(r[1] for r in refunds) == amount,
        "refunds": {
            "object": "list",
            "data": [
                {"id": rid, "amount": cents, "currency": "usd", "created": ts(day)}
                for rid, cents, day in refunds
            ],
        },
    }


def stripe_dispute(
    dispute: str, invoice: str, amount: int, day: float, status: str = "needs_response"
) -> dict[str, Any]:
    return {
        "id": dispute,
        "object": "dispute",
        "charge": f"ch_{invoice}",
        "amount": amount,
        "currency": "usd",
        "created": ts(day),
        "status": status,
    }


def stripe_signature(body: bytes, secret: str, t: int) -> str:
    signature = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={signature}"


# -- ActBlue -------------------------------------------------------------------


def actblue_payload(
    lineitem: int,
    order: str,
    cents: int,
    day: float,
    *,
    email: str = "grace@example.org",
    period: str = "monthly",
    status: str = "approved",
    employer: str | None = "Navy",
    occupation: str | None = "Rear Admiral",
    refunded_day: float | None = None,
    cancelled_day: float | None = None,
) -> dict[str, Any]:
    dollars = f"{cents // 100}.{cents % 100:02d}"
    fee = round(cents * 0.0395)
    less_fees = cents - fee
    return {
        "donor": {
            "firstname": "Grace",
            "lastname": "Hopper",
            "addr1": "12 Elm St",
            "city": "Topeka",
            "state": "KS",
            "zip": "66603",
            "country": "United States",
            "isEligibleForExpressLane": True,
            "email": email,
            "phone": "7855550123",
            "employerData": {"employer": employer, "occupation": occupation, "employerAddr1": None},
        },
        "contribution": {
            "createdAt": iso(day),
            "orderNumber": order,
            "contributionForm": "runway-monthly",
            "refcodes": {"refcode": "sms-2026"},
            "refcode": "sms-2026",
            "recurringPeriod": period,
            "recurringDuration": "infinite" if period != "once" else None,
            "isRecurring": period != "once",
            "isPaypal": False,
            "isMobile": True,
            "status": status,
            "retryUrl": f"https://secure.actblue.com/retry/{order}" if status == "declined" else None,
            "textMessageOption": "unknown",
            "customFields": [],
            **({"refundedAt": iso(refunded_day)} if refunded_day is not None else {}),
            **({"cancelledAt": iso(cancelled_day)} if cancelled_day is not None else {}),
        },
        "lineitems": [
            {
                "sequence": 1,
                "entityId": 12345,
                "fecId": "C00123456",
                "committeeName": "Runway Action Fund",
                "amount": dollars,
                "recurringAmount": dollars if period != "once" else None,
                "paidAt": iso(day),
                "paymentId": 900000 + lineitem,
                "lineitemId": lineitem,
                "amountLessAbFees": f"{less_fees // 100}.{less_fees % 100:02d}",
            }
        ],
        "form": {"name": "runway-monthly", "kind": "page", "managingEntityName": "Runway Action Fund"},
    }


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# -- Anedot --------------------------------------------------------------------


def anedot_payload(event: str, obj_id: str, day: float, **fields: Any) -> dict[str, Any]:
    payload = {
        "id": obj_id,
        "created_at": iso(day, -6),
        "updated_at": iso(day, -6),
        "currency": "USD",
        "donor": {
            "id": "dnr_77",
            "first_name": "Katherine",
            "last_name": "Johnson",
            "email": "katherine@example.org",
            "phone": "+13045550199",
            "address_line_1": "4 Orbit Way",
            "address_city": "White Sulphur Springs",
            "address_state": "WV",
            "address_zip": "24986",
            "address_country": "US",
            "employer": "NASA",
            "occupation": "Mathematician",
        },
        **fields,
    }
    return {"event": event, "payload": payload}


def anedot_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
