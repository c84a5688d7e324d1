"""A sample race catalog generated from real divisions, with illustrative dates.

Every race it writes is flagged `sample` and says so wherever it is shown.
Deterministic: the same division always gets the same races, so loading twice
changes nothing (upserts by source id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from runway_matching.adapters.tables import elections, positions, races
from runway_matching.domain.geography import DivisionMatch

SOURCE = "sample"
# Filing closes at noon in the state's main time zone.
STATE_TZ = {
    "hi": "Pacific/Honolulu",
    "ak": "America/Anchorage",
    "ca": "America/Los_Angeles",
    "or": "America/Los_Angeles",
    "wa": "America/Los_Angeles",
    "nv": "America/Los_Angeles",
    "az": "America/Phoenix",
    "co": "America/Denver",
    "id": "America/Boise",
    "mt": "America/Denver",
    "nm": "America/Denver",
    "ut": "America/Denver",
    "wy": "America/Denver",
    "al": "America/Chicago",
    "ar": "America/Chicago",
    "ia": "America/Chicago",
    "il": "America/Chicago",
    "ks": "America/Chicago",
    "la": "America/Chicago",
    "mn": "America/Chicago",
    "mo": "America/Chicago",
    "ms": "America/Chicago",
    "nd": "America/Chicago",
    "ne": "America/Chicago",
    "ok": "America/Chicago",
    "sd": "America/Chicago",
    "tn": "America/Chicago",
    "tx": "America/Chicago",
    "wi": "America/Chicago",
}
# (office type, level, name pattern, seats choices, minimum age, election, filing closes)
OFFICES: dict[str, list[tuple[str, str, str, tuple[int, ...], int | None, date, date]]] = {
    "county": [
        (
            "county_commission",
            "county",
            "{name} Commission",
            (1, 2, 3),
            18,
            date(2028, 11, 7),
            date(2028, 6, 1),
        )
    ],
    "place": [
        ("city_council", "city", "{name} City Council", (2, 3, 4), 18, date(2027, 11, 2), date(2027, 6, 1)),
        ("mayor", "city", "Mayor of {name}", (1,), 18, date(2027, 11, 2), date(2027, 6, 1)),
    ],
    "lea": [
        (
            "school_board",
            "local",
            "{name} Board of Education",
            (2, 3, 4),
            18,
            date(2027, 11, 2),
            date(2027, 6, 1),
        )
    ],
}


def _pick(ocd_id: str, salt: str, choices: tuple[int, ...]) -> int:
    digest = hashlib.sha256(f"{ocd_id}|{salt}".encode()).digest()
    return choices[digest[0] % len(choices)]


def _place_name(name: str) -> str:
    for suffix in (" city", " town", " village", " borough", " CDP"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def generate(
    divisions: dict[str, tuple[str, str]], states: set[str] | None = None
) -> Iterator[dict[str, Any]]:
    for ocd_id, (name, kind) in sorted(divisions.items()):
        division = DivisionMatch(ocd_id, name, kind, None)
        state = division.state.lower()
        if states and state not in states:
            continue
        tz = ZoneInfo(STATE_TZ.get(state, "America/New_York"))
        for office_type, level, pattern, seats, min_age, election_day, closes in OFFICES.get(kind, []):
            if office_type == "mayor" and _pick(ocd_id, "mayor", (0, 1, 2)) != 0:
                continue  # about a third of places elect a mayor this cycle
            key = f"{ocd_id}|{office_type}"
            yield {
                "key": hashlib.sha1(key.encode()).hexdigest()[:20],
                "source_id": key,
                "office_name": pattern.format(name=_place_name(name)),
                "office_type": office_type,
                "level": level,
                "division_id": ocd_id,
                "seats": _pick(ocd_id, office_type, seats),
                "minimum_age": min_age,
                "state": state,
                "election_date": election_day,
                "filing_closes": datetime.combine(closes, time(12), tz).astimezone(UTC),
            }


def load(session: Session, divisions: dict[str, tuple[str, str]], states: set[str] | None = None) -> int:
    """Upsert the sample catalog; returns the number of races written."""
    rows = list(generate(divisions, states))
    existing = set(session.scalars(sa.select(races.c.source_id).where(races.c.source == SOURCE)))
    fresh = [r for r in rows if r["source_id"] not in existing]
    election_rows = {
        (r["state"], r["election_date"]): {
            "id": f"sample-{r['state']}-{r['election_date']:%Y%m%d}",
            "name": f"{r['state'].upper()} general election {r['election_date']:%B %-d, %Y} (sample)",
            "election_date": r["election_date"],
            "jurisdiction_id": f"ocd-division/country:us/state:{r['state']}",
            "source": SOURCE,
            "source_id": f"{r['state']}|{r['election_date']}",
        }
        for r in fresh
    }
    known = set(session.scalars(sa.select(elections.c.id).where(elections.c.source == SOURCE)))
    new_elections = [e for e in election_rows.values() if e["id"] not in known]
    if new_elections:
        session.execute(elections.insert(), new_elections)
    if fresh:
        session.execute(
            positions.insert(),
            [
                {
                    "id": f"pos-{r['key']}",
                    "name": r["office_name"],
                    "level": r["level"],
                    "office_type": r["office_type"],
                    "division_id": r["division_id"],
                    "seats": r["seats"],
                    "partisan": False,
                    "minimum_age": r["minimum_age"],
                    "source": SOURCE,
                    "source_id": r["source_id"],
                }
                for r in fresh
            ],
        )
        session.execute(
            races.insert(),
            [
                {
                    "id": f"race-{r['key']}",
                    "position_id": f"pos-{r['key']}",
                    "election_id": election_rows[(r["state"], r["election_date"])]["id"],
                    "division_id": r["division_id"],
                    "seats_up": r["seats"],
                    "filing_opens": None,
                    "filing_closes": r["filing_closes"],
                    "sample": True,
                    "source": SOURCE,
                    "source_id": r["source_id"],
                }
                for r in fresh
            ],
        )
    return len(fresh)
