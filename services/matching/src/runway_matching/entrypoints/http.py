"""Matching's public API: races and divisions near a ZIP code."""

from __future__ import annotations

import re
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from runway_contracts.matching import RaceSummary
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.domain.races import Person
from runway_matching.service_layer.race_finder import find_races
from runway_runtime.requests import Host

router = APIRouter(tags=["races"])
ZIP = re.compile(r"^\d{5}$")


async def get_geography(request: Request) -> GeographyIndex:
    return request.app.state.geography  # type: ignore[no-any-return]


async def valid_zip(zip: Annotated[str, Query(description="5-digit ZIP code")]) -> str:
    if not ZIP.match(zip):
        raise HTTPException(
            422, [{"loc": ["query", "zip"], "msg": "expected a 5-digit ZIP code", "type": "value_error"}]
        )
    return zip


class DivisionOut(BaseModel):
    ocd_id: str
    name: str
    kind: str
    share: float | None
    certainty: str


class RacesOut(BaseModel):
    zip: str
    location: str
    location_resolved: bool
    total: int
    races: list[RaceSummary]
    notice: str | None = None


@router.get("/v1/divisions", response_model=list[DivisionOut], summary="Divisions a ZIP lies in")
async def divisions(
    zip: Annotated[str, Depends(valid_zip)], geography: Annotated[GeographyIndex, Depends(get_geography)]
) -> list[DivisionOut]:
    location = geography.locate(zip)
    return [
        DivisionOut(ocd_id=d.ocd_id, name=d.name, kind=d.kind, share=d.share, certainty=d.certainty)
        for d in location.divisions
    ]


@router.get("/v1/races", response_model=RacesOut, summary="Races you could run for near a ZIP")
async def races_near(
    zip: Annotated[str, Depends(valid_zip)],
    host: Host,
    geography: Annotated[GeographyIndex, Depends(get_geography)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> RacesOut:
    location = geography.locate(zip)

    def lookup() -> list[RaceSummary]:
        with host.sessions() as session:
            return [r.summary() for r in find_races(session, location, Person(None, frozenset()))]

    found = await anyio.to_thread.run_sync(lookup)
    return RacesOut(
        zip=zip,
        location=location.summary,
        location_resolved=location.resolved,
        total=len(found),
        races=found[:limit],
        notice="Sample data, dates illustrative." if any(r.sample_data for r in found) else None,
    )
