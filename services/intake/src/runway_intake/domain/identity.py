"""Who a submission belongs to: one lead per person.

The same normalized email, or the same E.164 phone, means the same person. A
submission whose email belongs to one lead and phone to another proves the two
are one person: they merge, and the older lead survives (its id stays stable
for everyone who already knows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class KnownLead:
    lead_id: str
    created_at: datetime


@dataclass(frozen=True)
class Create:
    pass


@dataclass(frozen=True)
class Join:
    lead_id: str


@dataclass(frozen=True)
class Merge:
    survivor_id: str
    absorbed_id: str


Resolution = Create | Join | Merge


def resolve(by_email: KnownLead | None, by_phone: KnownLead | None) -> Resolution:
    if by_email is None and by_phone is None:
        return Create()
    if by_email is None or by_phone is None or by_email.lead_id == by_phone.lead_id:
        return Join((by_email or by_phone).lead_id)  # type: ignore[union-attr]
    survivor, absorbed = sorted((by_email, by_phone), key=lambda lead: (lead.created_at, lead.lead_id))
    return Merge(survivor.lead_id, absorbed.lead_id)
