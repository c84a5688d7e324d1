"""Adding a race to the catalog (admin API), and telling the people it concerns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from runway_contracts.matching import RacePublished
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.tables import elections, positions, races
from runway_matching.domain.geography import DivisionMatch
from runway_matching.service_layer.race_finder import RankedRace, race_by_id
from runway_storage import upsert


@dataclass(frozen=True)
class NewRace:
    source: str
    source_id: str
    office_name: str
    office_type: str
    level: str
    division_id: str
    division_name: str
    seats: int
    partisan: bool
    minimum_age: int | None
    election_name: str
    election_date: date
    filing_closes: datetime | None


def _id(prefix: str, *parts: str) -> str:
    return f"{prefix}-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def add_race(uow: UnitOfWork, new: NewRace, now: datetime) -> tuple[str, bool]:
    """Upsert the race by its source id; (race id, whether it is new). A new race is published."""
    election_id = _id("el", new.source, new.election_name, new.election_date.isoformat())
    position_id = _id("pos", new.source, new.source_id)
    race_id = _id("race", new.source, new.source_id)
    with uow:
        session = uow.session
        existed = session.scalar(sa.select(races.c.id).where(races.c.id == race_id)) is not None
        jurisdiction = "/".join(new.division_id.split("/")[:3])
        upsert(
            session,
            elections,
            {
                "id": election_id,
                "name": new.election_name,
                "election_date": new.election_date,
                "jurisdiction_id": jurisdiction,
                "source": new.source,
                "source_id": f"{new.election_name}|{new.election_date.isoformat()}",
            },
            key=["id"],
        )
        upsert(
            session,
            positions,
            {
                "id": position_id,
                "name": new.office_name,
                "level": new.level,
                "office_type": new.office_type,
                "division_id": new.division_id,
                "seats": new.seats,
                "partisan": new.partisan,
                "minimum_age": new.minimum_age,
                "source": new.source,
                "source_id": new.source_id,
            },
            key=["id"],
        )
        upsert(
            session,
            races,
            {
                "id": race_id,
                "position_id": position_id,
                "election_id": election_id,
                "division_id": new.division_id,
                "seats_up": new.seats,
                "filing_opens": None,
                "filing_closes": new.filing_closes.astimezone(UTC) if new.filing_closes else None,
                "sample": False,
                "source": new.source,
                "source_id": new.source_id,
            },
            key=["id"],
        )
        if not existed:
            race = race_by_id(session, race_id)
            assert race is not None
            where = DivisionMatch(new.division_id, new.division_name, "", None)
            summary = RankedRace(race, where, 0.0, f"A new race for {new.office_name}.").summary()
            uow.outbox.stage(session, RacePublished(race=summary, published_at=now), subject_id=race_id)
        uow.commit()
        return race_id, not existed
