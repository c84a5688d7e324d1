"""A race a person could enter, whether they can, how it ranks, and why it is shown."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runway_matching.domain.geography import DivisionMatch

if TYPE_CHECKING:
    from runway_matching.domain.catalog import RaceRecord

# Office types a lead's interest codes point to.
INTEREST_OFFICE_TYPES = {
    "school_board": {"school_board"},
    "city_council": {"city_council"},
    "county": {"county_commission"},
    "mayor": {"mayor"},
    "judicial": {"judge"},
    "state_legislature": {"state_house", "state_senate"},
}
LOCAL_FIRST = {"place": 3, "lea": 3, "county": 2, "cd": 0, "state": 1}


@dataclass(frozen=True, slots=True)
class Race:
    race_id: str
    office_name: str
    office_type: str
    level: str
    division_id: str
    election_date: date
    filing_closes: datetime | None
    seats: int
    partisan: bool
    minimum_age: int | None
    sample: bool
    race_type: str = "general"
    unexpired_term: bool = False
    filing_opens: datetime | None = None
    candidates_filed: int | None = None  # None: not known
    must_be_resident: bool = True
    must_be_registered_voter: bool = True
    term_years: int | None = None
    salary: str | None = None
    filing_fee_cents: int | None = None
    filing_office: str | None = None
    paperwork_notes: str | None = None
    filing_time_zone: str | None = None

    @classmethod
    def from_record(cls, race_id: str, record: RaceRecord) -> Race:
        return cls(
            race_id,
            record.office_name,
            record.office_type,
            record.level,
            record.division_id,
            record.election_date,
            record.filing_closes,
            record.seats,
            record.partisan,
            record.minimum_age,
            record.sample,
            race_type=record.race_type,
            unexpired_term=record.unexpired_term,
            filing_opens=record.filing_opens,
            candidates_filed=record.candidates_filed,
            must_be_resident=record.must_be_resident,
            must_be_registered_voter=record.must_be_registered_voter,
            term_years=record.term_years,
            salary=record.salary,
            filing_fee_cents=record.filing_fee_cents,
            filing_office=record.filing_office,
            paperwork_notes=record.paperwork_notes,
            filing_time_zone=record.filing_time_zone,
        )


@dataclass(frozen=True, slots=True)
class Person:
    birth_date: date | None
    interests: frozenset[str]


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def latest_birth_date(election_date: date, minimum_age: int) -> date:
    """The last birthday that is old enough on election day: the same rule as `age_on`, as a
    bound a database can compare against (someone born on 29 February turns a year older on
    1 March in other years, so an election on 29 February needs a birth on the 28th)."""
    year = election_date.year - minimum_age
    if (election_date.month, election_date.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return election_date.replace(year=year)


def eligible(race: Race, person: Person, now: datetime) -> bool:
    """Filing still open, and old enough on election day. Residency: the race is in a division the
    person lives in (that is how it was found); registration cannot be known here and is said in
    the race's details instead."""
    if race.filing_closes is not None and race.filing_closes <= now:
        return False
    if race.election_date < now.date():
        return False
    if race.minimum_age and person.birth_date:
        return person.birth_date <= latest_birth_date(race.election_date, race.minimum_age)
    return True


def score(race: Race, where: DivisionMatch, person: Person, now: datetime) -> float:
    points = float(LOCAL_FIRST.get(where.kind, 0))
    points += min(race.seats, 5) * 0.3  # more open seats, better odds
    if race.candidates_filed == 0:
        points += 1.5  # nobody has filed yet: a seat that may go uncontested without them
    if race.filing_closes is not None:
        weeks_left = max((race.filing_closes - now).days / 7, 0)
        points += 2.0 / (1 + weeks_left / 8)  # sooner deadlines first, gently
    wanted = set().union(*(INTEREST_OFFICE_TYPES.get(i, set()) for i in person.interests))
    # What the person asked for comes first, wherever in their ZIP it is.
    return points * likelihood(where) + (5.0 if race.office_type in wanted else 0.0)


def likelihood(where: DivisionMatch) -> float:
    """How likely the person lives in the division: a township holding 1% of their ZIP is
    probably not theirs, and must not crowd out the city holding the rest."""
    if where.how == "point":
        return 1.0
    share = where.share if where.share is not None else 0.5
    return 0.2 + 0.8 * share


def _day(d: date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


def describe(race: Race) -> str:
    """The race in a sentence or two: seats, office, kind, deadline."""
    seats = f"{race.seats} seats" if race.seats > 1 else "1 seat"
    kind = "partisan" if race.partisan else "nonpartisan"
    closes = f" Filing closes {_day(_local_deadline(race))}." if race.filing_closes else ""
    nobody = " Nobody has filed yet." if race.candidates_filed == 0 else ""
    sample = " (Sample data, dates illustrative.)" if race.sample else ""
    return f"{seats} on the {race.office_name}, {kind}.{closes}{nobody}{sample}"


def _local_deadline(race: Race) -> date:
    """The deadline's date where it is filed (noon in Topeka is not a day earlier in UTC)."""
    assert race.filing_closes is not None
    if race.filing_time_zone:
        try:
            return race.filing_closes.astimezone(ZoneInfo(race.filing_time_zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return race.filing_closes.date()


def reason(race: Race, where: DivisionMatch, postal_code: str | None) -> str:
    if where.certainty in {"zip_wholly_inside", "point_inside"}:
        place = f"You live in {where.name}, {where.state}."
    elif where.certainty == "zip_center_inside":
        place = f"The middle of ZIP {postal_code} is in {where.name}, {where.state}."
    elif where.share is not None:
        place = f"About {round(where.share * 100)}% of ZIP {postal_code} is in {where.name}, {where.state}."
    else:
        place = f"Part of ZIP {postal_code} is in {where.name}, {where.state}."
    return f"{place} {describe(race)}"
