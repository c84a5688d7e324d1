"""Filling the catalog: imports (CSV, VIP 5), the admin API and the sample catalog all land here.

An import is all or nothing: every row is read and checked first, and a file
with any bad row changes nothing and says what is wrong where. A good file is
applied in one transaction as upserts by (source, source id), in bulk; each
race that is new and still open for filing is published, which brings it to
the people it concerns (reverse matching).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from runway_contracts.matching import RacePublished
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters.race_files import Rows
from runway_matching.adapters.tables import catalog_revision, elections, positions, races
from runway_matching.domain.catalog import RaceRecord, RowError, duplicate_errors, read_race
from runway_matching.domain.geography import Division, DivisionMatch
from runway_matching.domain.races import Race
from runway_matching.service_layer import reminders
from runway_matching.service_layer.race_finder import RankedRace

CHUNK = 1000
BULK = 10_000  # an import this large refreshes PostgreSQL's statistics
# Stored column → the record's field it holds.
POSITION_COLUMNS = {
    "name": "office_name",
    "level": "level",
    "office_type": "office_type",
    "division_id": "division_id",
    "seats": "seats",
    "partisan": "partisan",
    "minimum_age": "minimum_age",
    "term_years": "term_years",
    "salary": "salary",
    "must_be_resident": "must_be_resident",
    "must_be_registered_voter": "must_be_registered_voter",
    "filing_fee_cents": "filing_fee_cents",
    "filing_office": "filing_office",
    "paperwork_notes": "paperwork_notes",
}
RACE_COLUMNS = {
    "division_id": "division_id",
    "seats_up": "seats",
    "race_type": "race_type",
    "unexpired_term": "unexpired_term",
    "candidates_filed": "candidates_filed",
    "filing_opens": "filing_opens",
    "filing_closes": "filing_closes",
    "filing_time_zone": "filing_time_zone",
    "sample": "sample",
}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    race_ids: list[str] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return not self.errors

    def as_dict(self, error_limit: int = 1000) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error_count": len(self.errors),
            "errors": [asdict(e) for e in self.errors[:error_limit]],
        }


def stable_id(prefix: str, *parts: str) -> str:
    return f"{prefix}-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def race_id_for(source: str, source_id: str) -> str:
    return stable_id("race", source, source_id)


def read_records(
    rows: Rows, source: str, divisions: Mapping[str, Division]
) -> tuple[list[RaceRecord], list[RowError]]:
    """Every row checked: the records, or every error in the file (then nothing may be applied)."""
    numbered: list[tuple[int, RaceRecord]] = []
    errors: list[RowError] = []
    for number, fields in rows:
        record, problems = read_race(fields, source=source, row=number, divisions=divisions)
        errors.extend(problems)
        if record is not None:
            numbered.append((number, record))
    errors.extend(duplicate_errors(numbered))
    return [r for _, r in numbered], sorted(errors, key=lambda e: (e.row, e.field))


def _row(record: RaceRecord, columns: dict[str, str]) -> dict[str, Any]:
    return {column: getattr(record, field) for column, field in columns.items()}


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _existing(session: sa.orm.Session, source: str, source_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored position and race fields of these source ids, as the import would write them."""
    columns = [positions.c[c].label(f"p_{c}") for c in POSITION_COLUMNS]
    columns += [races.c[c].label(f"r_{c}") for c in RACE_COLUMNS]
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(source_ids):
        query = (
            sa.select(races.c.source_id, races.c.election_id, *columns)
            .join(positions, positions.c.id == races.c.position_id)
            .where(races.c.source == source, races.c.source_id.in_(chunk))
        )
        for row in session.execute(query).mappings():
            values = dict(row)
            found[values.pop("source_id")] = values
    return found


def import_races(
    uow: UnitOfWork,
    records: list[RaceRecord],
    divisions: Mapping[str, Division],
    now: datetime,
    *,
    publish: bool = True,
) -> ImportReport:
    """Upsert checked records in one transaction; new races still open for filing are published."""
    report = ImportReport()
    by_source: dict[str, list[RaceRecord]] = {}
    for record in records:
        by_source.setdefault(record.source, []).append(record)
    with uow:
        session = uow.session
        election_rows = {
            stable_id("el", r.source, r.election_name, r.election_date.isoformat()): {
                "name": r.election_name,
                "election_date": r.election_date,
                "jurisdiction_id": "/".join(r.division_id.split("/")[:3]),
                "source": r.source,
                "source_id": f"{r.election_name}|{r.election_date.isoformat()}",
            }
            for r in records
        }
        known = set()
        for chunk in _chunks(list(election_rows)):
            known |= set(session.scalars(sa.select(elections.c.id).where(elections.c.id.in_(chunk))))
        fresh_elections = [{"id": i, **row} for i, row in election_rows.items() if i not in known]
        if fresh_elections:
            session.execute(elections.insert(), fresh_elections)

        new_positions, new_races, changed_positions, changed_races, published = [], [], [], [], []
        moved_deadlines: dict[str, datetime | None] = {}
        for source, group in by_source.items():
            stored = _existing(session, source, [r.source_id for r in group])
            for record in group:
                race_id = race_id_for(source, record.source_id)
                position_id = stable_id("pos", source, record.source_id)
                election_id = stable_id("el", source, record.election_name, record.election_date.isoformat())
                position, race = _row(record, POSITION_COLUMNS), _row(record, RACE_COLUMNS)
                race["election_id"] = election_id
                report.race_ids.append(race_id)
                before = stored.get(record.source_id)
                if before is None:
                    new_positions.append(
                        {"id": position_id, "source": source, "source_id": record.source_id, **position}
                    )
                    new_races.append(
                        {
                            "updated_at": now,
                            "id": race_id,
                            "position_id": position_id,
                            "source": source,
                            "source_id": record.source_id,
                            **race,
                        }
                    )
                    report.created += 1
                    if record.filing_closes is None or record.filing_closes > now:
                        published.append((race_id, record))
                    continue
                same_position = all(before[f"p_{k}"] == v for k, v in position.items())
                same_race = before["election_id"] == election_id and all(
                    before[f"r_{k}"] == v for k, v in race.items() if k != "election_id"
                )
                if same_position and same_race:
                    report.unchanged += 1
                    continue
                report.updated += 1
                if not same_position:
                    changed_positions.append({"_id": position_id, **position})
                changed_races.append(
                    {"_id": race_id, **race, "updated_at": now}
                )  # the catalog's version moves
                if before["r_filing_closes"] != race["filing_closes"]:
                    moved_deadlines[race_id] = race["filing_closes"]
        if new_positions:
            session.execute(positions.insert(), new_positions)
            session.execute(races.insert(), new_races)
        if changed_positions:
            statement = positions.update().where(positions.c.id == sa.bindparam("_id"))
            session.execute(statement, changed_positions)
        if changed_races:
            session.execute(races.update().where(races.c.id == sa.bindparam("_id")), changed_races)
            reminders.move(session, moved_deadlines)  # a reminder goes at its offset from the new deadline
        if report.created or report.updated:
            session.execute(catalog_revision.update().values(revision=catalog_revision.c.revision + 1))
        if publish and published:
            uow.outbox.stage_rows(
                session,
                [
                    uow.outbox.row(
                        RacePublished(race=_announced(race_id, record, divisions), published_at=now),
                        subject_id=race_id,
                    )
                    for race_id, record in published
                ],
            )
        uow.commit()
        if report.created + report.updated >= BULK and session.get_bind().dialect.name == "postgresql":
            # Fresh statistics now rather than at autovacuum's next pass: until then the
            # planner guesses, and lookups by division run up to ten times slower.
            session.execute(sa.text("ANALYZE elections, positions, races"))
            session.commit()
    return report


def import_catalog(
    uow: UnitOfWork, rows: Rows, source: str, divisions: Mapping[str, Division], now: datetime
) -> ImportReport:
    """A whole file: applied when every row is good, else the report of every error and nothing changed.

    Raises `UnreadableFile` when the file as a whole cannot be read.
    """
    records, errors = read_records(rows, source, divisions)
    if errors:
        return ImportReport(errors=errors)
    return import_races(uow, records, divisions, now)


def add_race(
    uow: UnitOfWork, record: RaceRecord, divisions: Mapping[str, Division], now: datetime
) -> tuple[str, bool]:
    """One checked race upserted; (its id, whether it is new)."""
    report = import_races(uow, [record], divisions, now)
    return report.race_ids[0], bool(report.created)


def _announced(race_id: str, record: RaceRecord, divisions: Mapping[str, Division]) -> Any:
    division = divisions.get(record.division_id)
    where = DivisionMatch(record.division_id, division.name if division else record.division_id, "", None)
    race = Race.from_record(race_id, record)
    return RankedRace(race, where, 0.0, f"A new race for {record.office_name}.").summary()
