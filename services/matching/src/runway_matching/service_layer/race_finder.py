"""Finding, filtering and ranking the races for a location."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_contracts.matching import RaceSummary
from runway_matching.adapters.tables import elections, positions, races
from runway_matching.domain.geography import DivisionMatch, Location
from runway_matching.domain.races import Person, Race, eligible, reason, score


@dataclass(frozen=True)
class RankedRace:
    race: Race
    where: DivisionMatch
    score: float
    reason: str

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


def _as_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite drops the offset
        return value.replace(tzinfo=UTC)
    return value


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
        )
        .join(positions, positions.c.id == races.c.position_id)
        .join(elections, elections.c.id == races.c.election_id)
    )


def _race(r: Any) -> Race:
    return Race(r[0], r[1], r[2], r[3], r[4], r[5], _as_utc(r[6]), r[7], r[8], r[9], r[10])


def races_in(session: Session, division_ids: list[str]) -> list[Race]:
    if not division_ids:
        return []
    return [_race(r) for r in session.execute(_race_query().where(races.c.division_id.in_(division_ids)))]


def race_by_id(session: Session, race_id: str) -> Race | None:
    row = session.execute(_race_query().where(races.c.id == race_id)).first()
    return _race(row) if row else None


def find_races(
    session: Session, location: Location, person: Person, now: datetime | None = None
) -> list[RankedRace]:
    """Every race the person could still enter, best first."""
    now = now or datetime.now(UTC)
    where = {d.ocd_id: d for d in location.divisions}
    ranked = [
        RankedRace(
            race,
            where[race.division_id],
            score(race, where[race.division_id], person, now),
            reason(race, where[race.division_id], location.postal_code),
        )
        for race in races_in(session, list(where))
        if eligible(race, person, now)
    ]
    return sorted(ranked, key=lambda r: (-r.score, r.race.filing_closes or now, r.race.race_id))
