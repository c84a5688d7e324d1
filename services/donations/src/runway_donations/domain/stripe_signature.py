"""Verifying Stripe's `Stripe-Signature` header.

`t=<unix time>,v1=<hex>[,v1=<hex>…]`: each v1 is HMAC-SHA256 over
"<t>.<raw body>" with an endpoint secret. Accept when any v1 matches any of
our secrets (rotation) and the timestamp is within the tolerance (replays).
"""

from __future__ import annotations

import hashlib
import hmac


class SignatureRejected(ValueError):
    pass


def verify(body: bytes, header: str | None, secrets: list[str], now: float, tolerance: int = 300) -> None:
    if not header:
        raise SignatureRejected("missing Stripe-Signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureRejected("timestamp is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureRejected("no timestamp in Stripe-Signature")
    if not signatures:
        raise SignatureRejected("no v1 signature in Stripe-Signature")
    signed = f"{timestamp}.".encode() + body
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    if not any(hmac.compare_digest(e, given) for e in expected for given in signatures):
        raise SignatureRejected("no signature matches")
    if abs(now - timestamp) > tolerance:
        raise SignatureRejected(f"timestamp outside the {tolerance}s tolerance")
