"""The HTTP shapes of intake's API (not the events, not the tables)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class ConsentIn(BaseModel):
    email: bool = Field(default=False, description="Agreed to receive email.")
    sms: bool = Field(default=False, description="Agreed to receive text messages.")
    wording: str = Field(min_length=1, max_length=2000, description="The exact consent text shown.")


class SignupIn(BaseModel):
    """A sign-up through Runway's own form."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    zip: str | None = Field(default=None, max_length=10, description="5-digit ZIP or ZIP+4.")
    birth_date: date | None = None
    interests: list[str] = Field(default_factory=list, max_length=30)
    tags: list[str] = Field(default_factory=list, max_length=30)
    consent: ConsentIn | None = None


class SignupAccepted(BaseModel):
    lead_id: str
    submission_id: str
    is_new_lead: bool
