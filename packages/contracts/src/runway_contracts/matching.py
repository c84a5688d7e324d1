"""Events published by matching (stream MATCHING, subjects `matching.>`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from runway_contracts.cloudevent import Event

LEAD_MATCHED = "matching.lead.matched.v1"
RACE_PUBLISHED = "matching.race.published.v1"
LEAD_RACE_NEARBY = "matching.lead.race_nearby.v1"
DEADLINE_APPROACHING = "matching.deadline.approaching.v1"


class RaceSummary(BaseModel):
    """One race as shown to a prospective candidate."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    race_id: str
    office_name: str = Field(description="e.g. 'Lawrence USD 497 Board of Education'.")
    level: str = Field(description="federal, state, county, city, township, local, regional.")
    division_id: str = Field(description="OCD division id of the seat.")
    division_name: str
    election_date: date
    filing_deadline: datetime | None = Field(default=None, description="Filing closes (UTC).")
    seats: int = 1
    partisan: bool = False
    reason: str = Field(description="Why this race is shown to this person, in plain words.")
    sample_data: bool = Field(default=False, description="True for illustrative sample races.")


class LeadMatched(Event):
    """The races a lead could run for near where they live."""

    TYPE: ClassVar[str] = LEAD_MATCHED

    lead_id: str
    postal_code: str | None
    location_resolved: bool = Field(description="False when the ZIP matched no division.")
    location_summary: str = Field(description="e.g. 'Douglas County, KS'.")
    total_races: int
    races: list[RaceSummary] = Field(description="The top races, best first.")
    matched_at: datetime


class RacePublished(Event):
    """A race was added to the catalog (drives reverse matching)."""

    TYPE: ClassVar[str] = RACE_PUBLISHED

    race: RaceSummary
    published_at: datetime


class LeadRaceNearby(Event):
    """A newly added race concerns an existing lead."""

    TYPE: ClassVar[str] = LEAD_RACE_NEARBY

    lead_id: str
    race: RaceSummary


class DeadlineApproaching(Event):
    """A matched race's filing deadline is near."""

    TYPE: ClassVar[str] = DEADLINE_APPROACHING

    lead_id: str
    race: RaceSummary
    days_left: int
