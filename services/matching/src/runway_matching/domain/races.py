"""A race a person could enter, whether they can, how it ranks, and why it is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from runway_matching.domain.geography import DivisionMatch

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Person:
    birth_date: date | None
    interests: frozenset[str]


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def eligible(race: Race, person: Person, now: datetime) -> bool:
    if race.filing_closes is not None and race.filing_closes <= now:
        return False
    if race.minimum_age and person.birth_date:
        return age_on(person.birth_date, race.election_date) >= race.minimum_age
    return True


def score(race: Race, where: DivisionMatch, person: Person, now: datetime) -> float:
    wanted = set().union(*(INTEREST_OFFICE_TYPES.get(i, set()) for i in person.interests))
    points = 4.0 if race.office_type in wanted else 0.0
    points += LOCAL_FIRST.get(where.kind, 0)
    points += 2.0 * (where.share if where.share is not None else 0.5)
    points += min(race.seats, 5) * 0.3
    if race.filing_closes is not None:
        weeks_left = max((race.filing_closes - now).days / 7, 0)
        points += 2.0 / (1 + weeks_left / 8)  # sooner deadlines first, gently
    return points


def _day(d: date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


def reason(race: Race, where: DivisionMatch, postal_code: str | None) -> str:
    if where.certainty == "zip_wholly_inside":
        place = f"You live in {where.name}, {where.state}."
    elif where.share is not None:
        place = f"About {round(where.share * 100)}% of ZIP {postal_code} is in {where.name}, {where.state}."
    else:
        place = f"Part of ZIP {postal_code} is in {where.name}, {where.state}."
    seats = f"{race.seats} seats" if race.seats > 1 else "1 seat"
    kind = "partisan" if race.partisan else "nonpartisan"
    closes = f" Filing closes {_day(race.filing_closes.date())}." if race.filing_closes else ""
    sample = " (Sample data, dates illustrative.)" if race.sample else ""
    return f"{place} {seats} on the {race.office_name}, {kind}.{closes}{sample}"
