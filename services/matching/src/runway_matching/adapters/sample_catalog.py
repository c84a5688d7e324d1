"""A sample race catalog generated from the real OCD divisions, with illustrative dates.

About 100,000 races: school boards, city and town councils and mayors, council
wards, county commissions, clerks and sheriffs, state house and senate seats,
state judgeships and special districts. Every race is flagged `sample` and says
so wherever it is shown. Deterministic: a division always gets the same races,
so loading twice changes nothing (upserts by source id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from runway_matching.domain.catalog import RaceRecord, state_time_zone
from runway_matching.domain.geography import Division

SOURCE = "sample"
ODD_YEAR = date(2027, 11, 2)  # many cities and school districts vote in odd years
EVEN_YEAR = date(2028, 11, 7)


@dataclass(frozen=True)
class Office:
    office_type: str
    level: str
    name: str  # pattern over {name}
    seats: tuple[int, ...]
    minimum_age: int = 18
    partisan: bool = False
    term_years: int = 4
    share: int = 1  # one division in `share` holds this race this cycle
    filing_office: str = "the county election office"
    notes: str | None = None


CITY = (
    Office("city_council", "city", "{name} City Council", (2, 3, 4), filing_office="the city clerk"),
    Office("mayor", "city", "Mayor of {name}", (1,), share=2, filing_office="the city clerk"),
)
TOWN = (Office("city_council", "township", "{name} Town Board", (1, 2, 3), filing_office="the town clerk"),)
COUNTY_DISTRICT = (Office("county_commission", "county", "{name} Commissioner", (1,), partisan=True),)
OFFICES: dict[str, tuple[Office, ...]] = {
    "county": (
        Office("county_commission", "county", "{name} Commission", (1, 2, 3), partisan=True),
        Office("county_clerk", "county", "{name} Clerk", (1,), partisan=True),
        Office("sheriff", "county", "{name} Sheriff", (1,), minimum_age=21, partisan=True),
        Office(
            "prosecutor",
            "county",
            "{name} Prosecuting Attorney",
            (1,),
            21,
            True,
            notes="Must be a licensed attorney in the state.",
        ),
    ),
    "lea": (Office("school_board", "local", "{name} Board of Education", (2, 3, 4)),),
    "school_board_district": (Office("school_board", "local", "{name}", (1,)),),
    "council_district": (Office("city_council", "city", "{name}", (1,), filing_office="the city clerk"),),
    "ward": (Office("city_council", "city", "{name} Council Member", (1,), filing_office="the city clerk"),),
    "commissioner_district": COUNTY_DISTRICT,
    "executive_district": (Office("county_commission", "county", "{name}", (1,), partisan=True),),
    "sldl": (
        Office("state_house", "state", "{name}", (1,), 21, True, 2, filing_office="the Secretary of State"),
    ),
    "sldu": (
        Office(
            "state_senate", "state", "{name}", (1,), 25, True, share=2, filing_office="the Secretary of State"
        ),
    ),
    **{
        court: (
            Office(
                "judge",
                "county",
                "{name} Judge",
                (1,),
                30,
                term_years=6,
                share=2,
                notes="Must be a licensed attorney in the state.",
            ),
        )
        for court in ("circuit_court", "superior_court", "chancery_court")
    },
    **{
        district: (Office("special_district", "regional", "{name} Board", (1, 2, 3)),)
        for district in ("water", "sanitation", "sewer", "park_district", "health_care", "constable_district")
    },
    "board_of_education": (
        Office("school_board", "state", "{name} Member", (1,), filing_office="the Secretary of State"),
    ),
}


def _pick(ocd_id: str, salt: str, choices: tuple[int, ...]) -> int:
    digest = hashlib.sha256(f"{ocd_id}|{salt}".encode()).digest()
    return choices[int.from_bytes(digest[:4]) % len(choices)]


def _short_name(name: str) -> str:
    for suffix in (" city", " town", " village", " borough", " CDP", " township"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _offices(division: Division) -> tuple[Office, ...]:
    if division.kind == "place":
        return TOWN if division.geoid and len(division.geoid) == 10 else CITY
    if division.kind == "council_district" and (division.parent_id or "").rsplit("/", 1)[-1].startswith(
        "county:"
    ):
        return COUNTY_DISTRICT  # a county's council district elects a county commissioner
    return OFFICES.get(division.kind, ())


def generate(divisions: Mapping[str, Division], states: set[str] | None = None) -> Iterator[RaceRecord]:
    today = datetime.now(UTC).date()
    for ocd_id in sorted(divisions):
        division = divisions[ocd_id]
        state = division.state.lower()
        if (states and state not in states) or not division.valid_on(today) or not division.name:
            continue
        zone = ZoneInfo(state_time_zone(ocd_id))
        for office in _offices(division):
            if office.share > 1 and _pick(ocd_id, office.office_type, tuple(range(office.share))) != 0:
                continue
            local = office.level in {"city", "township", "local", "regional"}
            election_day = ODD_YEAR if local and _pick(state, "odd-year", (0, 1)) else EVEN_YEAR
            closes_day = election_day - timedelta(days=_pick(ocd_id, "closes", (90, 120, 150, 180, 210)))
            closes = datetime.combine(closes_day, time(17), zone)
            yield RaceRecord(
                source=SOURCE,
                source_id=f"{ocd_id}|{office.office_type}",
                office_name=office.name.format(name=_short_name(division.name)),
                office_type=office.office_type,
                level=office.level,
                division_id=ocd_id,
                election_name=f"{state.upper()} {'general' if office.partisan else 'nonpartisan'} election "
                f"{election_day:%B} {election_day.day}, {election_day.year} (sample)",
                election_date=election_day,
                seats=_pick(ocd_id, f"seats|{office.office_type}", office.seats),
                partisan=office.partisan,
                minimum_age=office.minimum_age,
                term_years=office.term_years,
                filing_opens=(closes - timedelta(days=42)).astimezone(UTC),
                filing_closes=closes.astimezone(UTC),
                filing_time_zone=zone.key,
                filing_office=office.filing_office,
                paperwork_notes=office.notes,
                sample=True,
            )
