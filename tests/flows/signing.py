"""Helpers that act as outside parties (Stripe) in flow tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any


def stripe_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def invoice_paid(
    email: str, amount_cents: int = 2500, subscription: str | None = "sub_123"
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": "invoice.paid",
        "created": now,
        "livemode": False,
        "data": {
            "object": {
                "id": f"in_{uuid.uuid4().hex[:24]}",
                "object": "invoice",
                "customer": f"cus_{uuid.uuid4().hex[:14]}",
                "customer_email": email,
                "customer_name": "Jordan Lee",
                "amount_paid": amount_cents,
                "currency": "usd",
                "subscription": subscription,
                "status": "paid",
                "status_transitions": {"paid_at": now},
            }
        },
    }


def body_of(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()
