"""Events published by donations (stream DONATIONS, subjects `donations.>`)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from runway_contracts.cloudevent import Event

CONTRIBUTION_SUCCEEDED = "donations.contribution.succeeded.v1"
CONTRIBUTION_FAILED = "donations.contribution.failed.v1"
CONTRIBUTION_REFUNDED = "donations.contribution.refunded.v1"
RECURRING_STARTED = "donations.recurring.started.v1"
RECURRING_CANCELED = "donations.recurring.canceled.v1"
WEBHOOK_RECEIVED = "donations.webhook.received.v1"


class DonorRef(BaseModel):
    """Who gave, as the provider told us; enough to address a receipt."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    donor_id: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class ContributionSucceeded(Event):
    """Money was received (one-off gift or a recurring installment)."""

    TYPE: ClassVar[str] = CONTRIBUTION_SUCCEEDED

    contribution_id: str
    provider: str = Field(description="stripe, actblue or anedot.")
    provider_payment_id: str
    donor: DonorRef
    amount_cents: int = Field(ge=0, description="Gross amount in the currency's minor unit.")
    currency: str = Field(description="ISO 4217, lowercase.")
    recurring: bool
    plan_id: str | None = None
    paid_at: datetime


class ContributionFailed(Event):
    """A payment attempt failed; the provider may retry."""

    TYPE: ClassVar[str] = CONTRIBUTION_FAILED

    provider: str
    provider_payment_id: str
    donor: DonorRef
    amount_cents: int = Field(ge=0)
    currency: str
    attempt: int = Field(ge=1, description="1 for the first failure of this payment.")
    retry_url: str | None = Field(default=None, description="Where the donor can fix payment.")
    next_attempt_at: datetime | None = None
    plan_id: str | None = None
    failed_at: datetime


class ContributionRefunded(Event):
    """All or part of a contribution was returned."""

    TYPE: ClassVar[str] = CONTRIBUTION_REFUNDED

    contribution_id: str
    provider: str
    donor: DonorRef
    refunded_cents: int = Field(ge=0)
    currency: str
    refunded_at: datetime


class RecurringStarted(Event):
    """A recurring plan became active."""

    TYPE: ClassVar[str] = RECURRING_STARTED

    plan_id: str
    provider: str
    donor: DonorRef
    amount_cents: int = Field(ge=0)
    currency: str
    interval: str = Field(description="week, month or year.")
    started_at: datetime


class RecurringCanceled(Event):
    """A recurring plan was cancelled (by the donor, staff or the provider)."""

    TYPE: ClassVar[str] = RECURRING_CANCELED

    plan_id: str
    provider: str
    donor: DonorRef
    canceled_by: str = Field(description="donor, staff, provider or dunning.")
    reason: str | None = None
    canceled_at: datetime


class WebhookReceived(Event):
    """A verified provider webhook was stored; donations itself applies it.

    Published so that applying a webhook gets the same retries, dead-letter
    parking and replay as any other handler, after the provider already had
    its 2xx.
    """

    TYPE: ClassVar[str] = WEBHOOK_RECEIVED

    webhook_event_id: str = Field(description="Runway's id of the stored raw event.")
    provider: str
    provider_event_id: str
    event_type: str
    received_at: datetime
