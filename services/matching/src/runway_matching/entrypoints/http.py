"""Matching's public API: races and divisions near a ZIP code or a point, one race, a calendar feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel

from runway_contracts.matching import RaceSummary
from runway_matching.adapters.calendar import filing_calendar
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.domain.geography import Location
from runway_matching.domain.races import Person, Race
from runway_matching.service_layer.live_catalog import CatalogSnapshot
from runway_matching.service_layer.race_finder import RaceFilter, RankedRace, race_by_id, rank
from runway_runtime.requests import Host

router = APIRouter(tags=["races"])
ZIP = re.compile(r"^\d{5}(-\d{4})?$")
SAMPLE_NOTICE = "Sample data, dates illustrative."


async def get_geography(request: Request) -> GeographyIndex:
    return request.app.state.geography  # type: ignore[no-any-return]


Geography = Annotated[GeographyIndex, Depends(get_geography)]


def _invalid(field: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["query", field], "msg": message, "type": "value_error"}])


async def where(
    geography: Geography,
    zip: Annotated[str | None, Query(description="5-digit ZIP code (or ZIP+4)")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude (WGS 84)")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Longitude (WGS 84)")] = None,
) -> Location:
    """The place asked about: a ZIP, or a point (exact where boundaries were imported)."""
    if (lat is None) != (lon is None):
        raise _invalid("lat" if lat is None else "lon", "give both lat and lon")
    if lat is not None and lon is not None:
        if zip is not None:
            raise _invalid("zip", "give a ZIP or a point, not both")
        return geography.locate_point(lat, lon)
    if zip is None:
        raise _invalid("zip", "give a ZIP code, or lat and lon")
    if not ZIP.match(zip):
        raise _invalid("zip", "expected a 5-digit ZIP code")
    return geography.locate(zip[:5])


Where = Annotated[Location, Depends(where)]


async def race_filter(
    level: Annotated[list[str] | None, Query(description="Only these levels (repeatable)")] = None,
    office_type: Annotated[
        list[str] | None, Query(description="Only these office types (repeatable)")
    ] = None,
    filing_closes_after: Annotated[
        datetime | None, Query(description="Deadline on or after (ISO 8601)")
    ] = None,
    filing_closes_before: Annotated[datetime | None, Query(description="Deadline before (ISO 8601)")] = None,
) -> RaceFilter:
    def aware(moment: datetime | None) -> datetime | None:
        return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment

    return RaceFilter(
        frozenset(level or ()),
        frozenset(office_type or ()),
        aware(filing_closes_after),
        aware(filing_closes_before),
    )


class DivisionOut(BaseModel):
    ocd_id: str
    name: str
    kind: str
    share: float | None
    certainty: str


class RaceOut(RaceSummary):
    """A race with what it takes to run for it."""

    office_type: str
    race_type: str
    unexpired_term: bool
    division_kind: str
    certainty: str
    filing_opens: datetime | None
    filing_time_zone: str | None
    minimum_age: int | None
    must_be_resident: bool
    must_be_registered_voter: bool
    term_years: int | None
    salary: str | None
    filing_fee_cents: int | None
    filing_office: str | None
    paperwork_notes: str | None
    candidates_filed: int | None

    @classmethod
    def of(cls, ranked: RankedRace) -> RaceOut:
        race = ranked.race
        return cls(
            **ranked.summary().model_dump(),
            office_type=race.office_type,
            race_type=race.race_type,
            unexpired_term=race.unexpired_term,
            division_kind=ranked.where.kind,
            certainty=ranked.where.certainty,
            filing_opens=race.filing_opens,
            filing_time_zone=race.filing_time_zone,
            minimum_age=race.minimum_age,
            must_be_resident=race.must_be_resident,
            must_be_registered_voter=race.must_be_registered_voter,
            term_years=race.term_years,
            salary=race.salary,
            filing_fee_cents=race.filing_fee_cents,
            filing_office=race.filing_office,
            paperwork_notes=race.paperwork_notes,
            candidates_filed=race.candidates_filed,
        )


class RacesOut(BaseModel):
    zip: str | None
    location: str
    location_resolved: bool
    total: int
    races: list[RaceOut]
    notice: str | None = None


@router.get("/v1/divisions", response_model=list[DivisionOut], summary="Divisions a ZIP or point lies in")
async def divisions(location: Where) -> list[DivisionOut]:
    return [
        DivisionOut(ocd_id=d.ocd_id, name=d.name, kind=d.kind, share=d.share, certainty=d.certainty)
        for d in location.divisions
    ]


def _json(body: BaseModel) -> Response:
    # Built and checked once here; handing FastAPI the model would validate it a second time,
    # which on the busiest route costs more than the database lookup.
    return Response(body.model_dump_json(), media_type="application/json")


NOBODY_IN_PARTICULAR = Person(None, frozenset())


async def get_catalog(request: Request) -> CatalogSnapshot:
    return request.app.state.catalog.snapshot  # type: ignore[no-any-return]


Catalog = Annotated[CatalogSnapshot, Depends(get_catalog)]


def _find(catalog: CatalogSnapshot, location: Location, only: RaceFilter) -> list[RankedRace]:
    # In memory and a fraction of a millisecond: no worker thread needed.
    candidates = catalog.races_in(d.ocd_id for d in location.divisions)
    return rank(candidates, location, NOBODY_IN_PARTICULAR, datetime.now(UTC), only)


@router.get("/v1/races", response_model=RacesOut, summary="Races you could run for near a ZIP or point")
async def races_near(
    location: Where,
    catalog: Catalog,
    only: Annotated[RaceFilter, Depends(race_filter)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    found = _find(catalog, location, only)
    body = RacesOut(
        zip=location.postal_code,
        location=location.summary,
        location_resolved=location.resolved,
        total=len(found),
        races=[RaceOut.of(r) for r in found[:limit]],
        notice=SAMPLE_NOTICE if any(r.race.sample for r in found) else None,
    )
    return _json(body)


@router.get(
    "/v1/races.ics",
    summary="Filing deadlines and election days near a ZIP or point, as an iCalendar feed",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def races_calendar(
    location: Where, catalog: Catalog, only: Annotated[RaceFilter, Depends(race_filter)]
) -> Response:
    found = _find(catalog, location, only)
    body = filing_calendar([(r.race, r.reason) for r in found], location.summary, datetime.now(UTC))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="runway-races.ics"'},
    )


@router.get("/v1/races/{race_id}", response_model=RaceOut, summary="One race")
async def race(race_id: str, host: Host, geography: Geography, catalog: Catalog) -> RaceOut:
    def from_database() -> Race | None:
        with host.sessions() as session:
            return race_by_id(session, race_id)

    # A race added by another process moments ago is in the database before it is in the snapshot.
    found = catalog.race(race_id) or await anyio.to_thread.run_sync(from_database)
    if found is None:
        raise HTTPException(404, "no race with this id")
    return RaceOut.of(RankedRace.plain(found, geography.divisions.get(found.division_id)))
