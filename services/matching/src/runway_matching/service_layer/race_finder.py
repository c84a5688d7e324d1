"""Finding, filtering and ranking the races for a location."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.matching import RaceSummary
from runway_matching.adapters.geography_index import GeographyIndex
from runway_matching.adapters.tables import elections, positions, races
from runway_matching.domain.geography import Division, DivisionMatch, Location
from runway_matching.domain.races import Person, Race, describe, eligible, reason, score


@dataclass(frozen=True)
class RaceFilter:
    """What the person asked to see; empty means everything."""

    levels: frozenset[str] = frozenset()
    office_types: frozenset[str] = frozenset()
    closes_after: datetime | None = None
    closes_before: datetime | None = None

    def keeps(self, race: Race) -> bool:
        closes = race.filing_closes
        return (
            (not self.levels or race.level in self.levels)
            and (not self.office_types or race.office_type in self.office_types)
            and (self.closes_after is None or (closes is not None and closes >= self.closes_after))
            and (self.closes_before is None or (closes is not None and closes < self.closes_before))
        )


EVERYTHING = RaceFilter()


@dataclass(frozen=True)
class RankedRace:
    race: Race
    where: DivisionMatch
    score: float
    reason: str

    @classmethod
    def plain(cls, race: Race, division: Division | None) -> RankedRace:
        """A race shown on its own, not to someone living somewhere."""
        name, kind = (division.name, division.kind) if division else (race.division_id, "")
        where = DivisionMatch(race.division_id, name, kind, None)
        return cls(race, where, 0.0, describe(race))

    def summary(self) -> RaceSummary:
        return RaceSummary(
            race_id=self.race.race_id,
            office_name=self.race.office_name,
            level=self.race.level,
            division_id=self.race.division_id,
            division_name=self.where.name,
            election_date=self.race.election_date,
            filing_deadline=self.race.filing_closes,
            seats=self.race.seats,
            partisan=self.race.partisan,
            reason=self.reason,
            sample_data=self.race.sample,
        )


def _race_query() -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(
            races.c.id,
            positions.c.name,
            positions.c.office_type,
            positions.c.level,
            races.c.division_id,
            elections.c.election_date,
            races.c.filing_closes,
            races.c.seats_up,
            positions.c.partisan,
            positions.c.minimum_age,
            races.c.sample,
            races.c.race_type,
            races.c.unexpired_term,
            races.c.filing_opens,
            races.c.candidates_filed,
            positions.c.must_be_resident,
            positions.c.must_be_registered_voter,
            positions.c.term_years,
            positions.c.salary,
            positions.c.filing_fee_cents,
            positions.c.filing_office,
            positions.c.paperwork_notes,
            races.c.filing_time_zone,
        )
        .join(positions, positions.c.id == races.c.position_id)
        .join(elections, elections.c.id == races.c.election_id)
    )


def _intern(value: str | None) -> str | None:
    return sys.intern(value) if value is not None else None


def _race(r: Any) -> Race:
    # Codes and ids repeat across 100,000 races: one string each keeps the catalog small in memory.
    return Race(
        r[0],
        r[1],
        sys.intern(r[2]),
        sys.intern(r[3]),
        sys.intern(r[4]),
        r[5],
        r[6],
        r[7],
        r[8],
        r[9],
        r[10],
        sys.intern(r[11]),
        r[12],
        r[13],
        *r[14:20],
        _intern(r[20]),
        r[21],
        _intern(r[22]),
    )


# Built once: the lookup runs on every `GET /v1/races`, and building a statement costs more
# than running it from SQLAlchemy's compiled cache.
_IN_DIVISIONS = _race_query().where(races.c.division_id.in_(sa.bindparam("division_ids", expanding=True)))
_BY_ID = _race_query().where(races.c.id == sa.bindparam("race_id"))


def races_in(session: Session, division_ids: list[str]) -> list[Race]:
    if not division_ids:
        return []
    return [_race(r) for r in session.execute(_IN_DIVISIONS, {"division_ids": division_ids})]


def all_races(session: Session) -> Iterable[Race]:
    for row in session.execute(_race_query().execution_options(yield_per=5000)):
        yield _race(row)


def race_by_id(session: Session, race_id: str) -> Race | None:
    row = session.execute(_BY_ID, {"race_id": race_id}).first()
    return _race(row) if row else None


def rank(
    candidates: list[Race],
    location: Location,
    person: Person,
    now: datetime,
    only: RaceFilter = EVERYTHING,
) -> list[RankedRace]:
    """The races the person could still enter, best first, each with its reason."""
    where = {d.ocd_id: d for d in location.divisions}
    ranked = [
        RankedRace(
            race,
            where[race.division_id],
            score(race, where[race.division_id], person, now),
            reason(race, where[race.division_id], location.postal_code),
        )
        for race in candidates
        if only.keeps(race) and eligible(race, person, now)
    ]
    return sorted(ranked, key=lambda r: (-r.score, r.race.filing_closes or now, r.race.race_id))


def find_races(
    session: Session,
    location: Location,
    person: Person,
    now: datetime | None = None,
    only: RaceFilter = EVERYTHING,
) -> list[RankedRace]:
    """Every race the person could still enter, best first, read from the database."""
    division_ids = list(dict.fromkeys(d.ocd_id for d in location.divisions))
    return rank(races_in(session, division_ids), location, person, now or datetime.now(UTC), only)


def shown_to(race: Race, postal_code: str | None, geography: GeographyIndex) -> RaceSummary:
    """The race as a person living in this ZIP sees it (their division match and its reason)."""
    where = next((d for d in geography.locate(postal_code).divisions if d.ocd_id == race.division_id), None)
    if where is None:  # the shipped geography changed since this person was matched
        division = geography.divisions.get(race.division_id)
        name, kind = (division.name, division.kind) if division else (race.division_id, "")
        where = DivisionMatch(race.division_id, name, kind, None)
    return RankedRace(race, where, 0.0, reason(race, where, postal_code)).summary()
