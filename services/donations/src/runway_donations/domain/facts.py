"""What a provider's webhook tells us, in Runway's terms: facts about money and plans.

Every provider event becomes zero or more facts. Each fact has an identity
(`key`) under which it is stored once, and the provider's own time
(`occurred_at`), so the state derived from a set of facts is the same
whatever order they arrived in and however often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers


@dataclass(frozen=True)
class Donor:
    """Who gave, as the provider told us. `as_of` decides which report of a person is newest."""

    provider: str
    customer_ref: str | None  # the provider's id for the person, if it has one
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    street: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    employer: str | None = None
    occupation: str | None = None
    as_of: datetime | None = None


@dataclass(frozen=True)
class PaymentSucceeded:
    provider: str
    payment_ref: str
    donor: Donor
    amount_cents: int
    currency: str
    occurred_at: datetime
    plan_ref: str | None = None
    fee_cents: int | None = None
    refcode: str | None = None
    committee: str | None = None  # earmarked recipient (ActBlue line items)
    installment: int | None = None
    aliases: tuple[str, ...] = ()  # other ids refunds and disputes may name it by (a charge)

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.payment_ref)


@dataclass(frozen=True)
class PaymentFailed:
    provider: str
    payment_ref: str
    donor: Donor
    amount_cents: int
    currency: str
    attempt: int
    occurred_at: datetime
    plan_ref: str | None = None
    retry_url: str | None = None
    next_attempt_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.provider, self.payment_ref, self.attempt)


@dataclass(frozen=True)
class Refunded:
    provider: str
    refund_ref: str
    payment_ref: str
    amount_cents: int
    currency: str
    occurred_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.refund_ref)


@dataclass(frozen=True)
class Disputed:
    provider: str
    dispute_ref: str
    payment_ref: str
    amount_cents: int
    currency: str
    occurred_at: datetime
    reversed: bool = False  # the chargeback was reversed: the money came back

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.dispute_ref + (":reversed" if self.reversed else ""))


@dataclass(frozen=True)
class PlanReported:
    """The provider's view of a recurring plan at `occurred_at` (the newest report wins)."""

    provider: str
    plan_ref: str
    donor: Donor
    amount_cents: int
    currency: str
    interval: str  # week, month, year
    status: str  # pending, active, past_due, canceled
    occurred_at: datetime
    next_charge_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.plan_ref)


@dataclass(frozen=True)
class PlanCanceled:
    provider: str
    plan_ref: str
    donor: Donor
    canceled_by: str  # donor, staff, provider, dunning
    occurred_at: datetime
    reason: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.plan_ref)


Fact = PaymentSucceeded | PaymentFailed | Refunded | Disputed | PlanReported | PlanCanceled


@dataclass(frozen=True)
class Interpretation:
    """The facts in one provider event; `ignored` when Runway does not use its type."""

    facts: list[Fact] = field(default_factory=list)
    ignored: bool = False


def email_key(email: str | None) -> str | None:
    """How a person's email is compared: trimmed and casefolded."""
    return email.strip().casefold() if email and email.strip() else None


def phone_key(phone: str | None) -> str | None:
    """A phone as E.164 (US numbers may come without +1), or None when it is not a number."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class MalformedEvent(ValueError):
    """A verified event whose content we cannot read (a field missing or of the wrong type)."""
