"""Events published by intake (stream INTAKE, subjects `intake.>`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from runway_contracts.cloudevent import Event

LEAD_RECEIVED = "intake.lead.received.v1"
LEAD_MERGED = "intake.lead.merged.v1"


class ChannelConsent(BaseModel):
    """Evidence of consent for one channel, as recorded when the person gave it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    granted: bool = Field(description="True when the person opted in on this channel.")
    recorded_at: datetime = Field(description="When the consent was given (UTC).")
    wording: str = Field(description="The exact consent text shown to the person.")
    ip: str | None = Field(default=None, description="Client IP the consent came from.")
    user_agent: str | None = Field(default=None, description="Client user agent.")


class LeadView(BaseModel):
    """The lead as intake knows it after the submission (merged view)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    lead_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = Field(default=None, description="Normalized email address.")
    phone: str | None = Field(default=None, description="E.164 phone number.")
    postal_code: str | None = Field(default=None, description="5-digit US ZIP code.")
    birth_date: date | None = None
    interests: list[str] = Field(default_factory=list, description="Taxonomy codes.")
    email_consent: ChannelConsent | None = None
    sms_consent: ChannelConsent | None = None
    tags: list[str] = Field(default_factory=list)


class LeadReceived(Event):
    """A submission was accepted and attached to a lead."""

    TYPE: ClassVar[str] = LEAD_RECEIVED

    submission_id: str
    form_key: str = Field(description="The registered form the submission came through.")
    is_new_lead: bool = Field(description="False when the submission joined an existing lead.")
    received_at: datetime
    lead: LeadView


class LeadMerged(Event):
    """Two or more leads were found to be one person and merged into a survivor."""

    TYPE: ClassVar[str] = LEAD_MERGED

    survivor_lead_id: str
    merged_lead_ids: list[str] = Field(description="Leads that no longer exist on their own.")
    merged_at: datetime
    lead: LeadView
