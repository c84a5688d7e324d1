"""Amounts: integer minor units, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def cents(amount: object) -> int:
    """`"25.00"`, `25`, `"1,000.50"` → cents; refuses anything that is not a whole number of cents."""
    try:
        value = Decimal(str(amount).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {amount!r}") from None
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"not a whole number of cents: {amount!r}")
    return int(scaled)
