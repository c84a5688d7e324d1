"""Matching's admin routes (bearer `RUNWAY_ADMIN_TOKEN`): races, catalog imports, district boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from runway_matching.adapters.boundaries import Boundaries
from runway_matching.adapters.race_files import UnreadableFile, csv_rows, vip_rows
from runway_matching.domain.catalog import LEVELS, OFFICE_TYPES, RACE_TYPES, read_race
from runway_matching.service_layer.boundary_import import import_boundaries
from runway_matching.service_layer.catalog import add_race, import_catalog
from runway_runtime.admin import admin_router
from runway_runtime.requests import Host, read_capped_body

router = admin_router(tags=["catalog"])
IMPORT_LIMIT = 64 * 1024 * 1024  # a whole state's catalog as CSV is a few megabytes
READERS = {"csv": csv_rows, "vip": vip_rows}


class RaceIn(BaseModel):
    """One race, in the fields of the CSV import format (docs/matching.md)."""

    source: str = Field(min_length=1, max_length=50, description="Where the race comes from, e.g. 'ks-sos'.")
    source_id: str = Field(min_length=1, max_length=200, description="The race's id at its source.")
    office_name: str = Field(min_length=1, max_length=300)
    office_type: str = Field(description=f"One of: {', '.join(OFFICE_TYPES)}.")
    level: str = Field(description=f"One of: {', '.join(LEVELS)}.")
    division_id: str = Field(max_length=300, description="OCD division id of the seat.")
    seats: Annotated[int, Field(ge=1, le=100)] = 1
    partisan: bool = False
    race_type: str = Field(default="general", description=f"One of: {', '.join(RACE_TYPES)}.")
    unexpired_term: bool = False
    minimum_age: Annotated[int | None, Field(ge=18, le=99)] = None
    election_name: str = Field(min_length=1, max_length=300)
    election_date: date
    filing_opens: AwareDatetime | None = Field(default=None, description="With its UTC offset.")
    filing_closes: AwareDatetime | None = Field(default=None, description="With its UTC offset.")
    filing_time_zone: str | None = Field(default=None, description="IANA zone the filing office keeps.")
    term_years: Annotated[int | None, Field(ge=1, le=20)] = None
    salary: str | None = Field(default=None, max_length=100)
    must_be_resident: bool = True
    must_be_registered_voter: bool = True
    filing_fee: str | None = Field(default=None, description="In dollars, e.g. '50.00'.")
    filing_office: str | None = Field(default=None, max_length=300)
    paperwork_notes: str | None = Field(default=None, max_length=2000)
    candidates_filed: Annotated[int | None, Field(ge=0, le=1000)] = None


def _as_fields(body: RaceIn) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for name, value in body.model_dump(exclude={"source"}).items():
        if value is None:
            fields[name] = None
        elif isinstance(value, bool):
            fields[name] = "true" if value else "false"
        elif isinstance(value, date | datetime):
            fields[name] = value.isoformat()
        else:
            fields[name] = str(value)
    return fields


def _unprocessable(errors: list[Any], where: str) -> HTTPException:
    detail = [
        {
            "loc": [where, e.field] if where == "body" else [where, e.row, e.field],
            "msg": e.message,
            "type": "value_error",
        }
        for e in errors
    ]
    return HTTPException(422, detail)


@router.post(
    "/v1/races", status_code=201, summary="Add or update one race (a new one reaches the leads it concerns)"
)
async def create_race(body: RaceIn, request: Request, response: Response, host: Host) -> dict[str, Any]:
    divisions = request.app.state.geography.divisions
    record, errors = read_race(_as_fields(body), source=body.source, row=1, divisions=divisions)
    if record is None:
        raise _unprocessable(errors, "body")
    race_id, created = await anyio.to_thread.run_sync(
        add_race, host.unit_of_work(), record, divisions, datetime.now(UTC)
    )
    await anyio.to_thread.run_sync(request.app.state.catalog.refresh, [race_id])
    if not created:
        response.status_code = 200  # the same source id again: updated in place, nobody told twice
    return {"race_id": race_id, "created": created}


@router.post(
    "/v1/imports",
    summary="Import races from a file (all or nothing)",
    description="The raw file as the body: Runway's CSV (`format=csv`) or VIP 5 XML (`format=vip`). "
    "200 with counts when applied; 422 with every row-level error when not (nothing changed).",
    responses={422: {"description": "The validation report; nothing was applied."}},
)
async def import_file(
    request: Request,
    host: Host,
    format: Annotated[Literal["csv", "vip"], Query()],
    source: Annotated[str, Query(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.:-]+$")],
) -> JSONResponse:
    raw = await read_capped_body(request, IMPORT_LIMIT)
    divisions = request.app.state.geography.divisions

    def run() -> JSONResponse:
        try:
            rows = READERS[format](raw)
            report = import_catalog(host.unit_of_work(), rows, source, divisions, datetime.now(UTC))
        except UnreadableFile as error:
            return JSONResponse({"applied": False, "file_error": str(error)}, status_code=422)
        if report.applied:
            request.app.state.catalog.refresh(report.race_ids)  # this process answers with them at once
        return JSONResponse(report.as_dict(), status_code=200 if report.applied else 422)

    return await anyio.to_thread.run_sync(run)


@router.post(
    "/v1/boundaries",
    summary="Import district boundaries (GeoJSON FeatureCollection, all or nothing)",
    description="Each feature names its OCD division in `properties.<id_property>`. Points inside an "
    "imported boundary match it exactly; this process uses them at once, others after a restart.",
)
async def import_boundary_file(
    request: Request,
    host: Host,
    id_property: Annotated[str, Query(max_length=50)] = "ocd_id",
    source: Annotated[str, Query(min_length=1, max_length=200)] = "admin-api",
) -> JSONResponse:
    raw = await read_capped_body(request, IMPORT_LIMIT)
    geography = request.app.state.geography

    def run() -> JSONResponse:
        with host.sessions() as session, session.begin():
            try:
                written, errors = import_boundaries(
                    session, raw, geography.divisions, source, datetime.now(UTC), id_property
                )
            except UnreadableFile as error:
                return JSONResponse({"applied": False, "file_error": str(error)}, status_code=422)
            if errors:
                return JSONResponse(
                    {"applied": False, "errors": [e.__dict__ for e in errors]}, status_code=422
                )
        with host.sessions() as session:
            geography.use_boundaries(Boundaries.from_database(session))
        return JSONResponse({"applied": True, "boundaries": written})

    return await anyio.to_thread.run_sync(run)
