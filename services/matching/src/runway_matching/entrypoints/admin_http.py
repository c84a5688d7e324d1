"""Matching's admin routes (bearer `RUNWAY_ADMIN_TOKEN`): adding a race to the catalog."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import anyio
from fastapi import HTTPException, Request, Response
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from runway_matching.service_layer.catalog import NewRace, add_race
from runway_runtime.admin import admin_router
from runway_runtime.requests import Host

router = admin_router(tags=["catalog"])


class RaceIn(BaseModel):
    source: str = Field(min_length=1, max_length=50, description="Where the race comes from, e.g. 'ks-sos'.")
    source_id: str = Field(min_length=1, max_length=200, description="The race's id at its source.")
    office_name: str = Field(min_length=1, max_length=300)
    office_type: str = Field(
        min_length=1, max_length=50, description="e.g. school_board, city_council, judge."
    )
    level: str = Field(min_length=1, max_length=20, description="federal, state, county, city, local, …")
    division_id: str = Field(pattern=r"^ocd-division/country:us(/[a-z_]+:[^/\s]+)*$", max_length=300)
    seats: Annotated[int, Field(ge=1, le=100)] = 1
    partisan: bool = False
    minimum_age: Annotated[int | None, Field(ge=18, le=99)] = None
    election_name: str = Field(min_length=1, max_length=300)
    election_date: date
    filing_closes: AwareDatetime | None = Field(default=None, description="With its UTC offset.")

    @model_validator(mode="after")
    def _deadline_before_election(self) -> RaceIn:
        if self.filing_closes and self.filing_closes.astimezone(UTC).date() > self.election_date:
            raise ValueError("filing_closes: the filing deadline is after the election")
        return self


@router.post("/v1/races", status_code=201, summary="Add a race (reaches the leads it concerns)")
async def create_race(body: RaceIn, request: Request, response: Response, host: Host) -> dict[str, Any]:
    divisions = request.app.state.geography.divisions
    if body.division_id not in divisions:
        raise HTTPException(
            422, [{"loc": ["body", "division_id"], "msg": "unknown OCD division", "type": "value_error"}]
        )
    new = NewRace(
        **body.model_dump(exclude={"filing_closes"}),
        division_name=divisions[body.division_id][0],
        filing_closes=body.filing_closes,
    )
    race_id, created = await anyio.to_thread.run_sync(add_race, host.unit_of_work(), new, datetime.now(UTC))
    if not created:
        response.status_code = 200  # the same source id again: updated in place, nobody told twice
    return {"race_id": race_id, "created": created}
