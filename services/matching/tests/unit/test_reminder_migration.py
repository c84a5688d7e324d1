"""Migration 0004 keeps every reminder: per-lead rows become per-race rows, and the leads who
were to be reminded are marked on their matches; 0005 copies each lead's ZIP and birth date
into the lead–division index (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from matching_database import MIGRATIONS

from runway_devstack.testing import Databases, require_backend
from runway_matching.adapters import tables
from runway_storage import upgrade_to_head

DUE = datetime(2027, 5, 18, 17, tzinfo=UTC)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_reminders_scheduled_per_lead_become_one_schedule_per_race(backend: str, tmp_path: Path) -> None:
    require_backend(backend)
    databases = Databases(backend, tmp_path)
    engine = databases.engine("matching")
    try:
        upgrade_to_head(engine, MIGRATIONS, "0003")
        matches = sa.table(
            "lead_matches", sa.column("lead_id"), sa.column("race_id"), sa.column("matched_at")
        )
        reminders = sa.table(
            "reminders",
            *(sa.column(c) for c in ("lead_id", "race_id", "days_before", "due_at", "status", "sent_at")),
        )
        at = DUE - timedelta(days=30)
        divisions = sa.table("lead_divisions", sa.column("division_id"), sa.column("lead_id"))
        with engine.begin() as c:
            c.execute(
                tables.lead_locations.insert().values(  # unchanged since 0003
                    lead_id="a",
                    postal_code="66044",
                    division_ids=[],
                    birth_date=date(1990, 5, 1),
                    interests=[],
                    updated_at=at,
                )
            )
            c.execute(divisions.insert(), [{"division_id": d, "lead_id": "a"} for d in ("county", "city")])
            c.execute(
                matches.insert(),
                [
                    {"lead_id": lead, "race_id": race, "matched_at": at}
                    for lead, race in (("a", "r1"), ("b", "r1"), ("a", "r2"), ("c", "r3"))
                ],
            )
            c.execute(
                reminders.insert(),
                [
                    # r1: the 14-day one went to both; the 7-day one waits for one of them.
                    {"lead_id": "a", "race_id": "r1", "days_before": 14, "due_at": DUE, "status": "sent", "sent_at": DUE},
                    {"lead_id": "b", "race_id": "r1", "days_before": 14, "due_at": DUE, "status": "sent", "sent_at": DUE},
                    {"lead_id": "a", "race_id": "r1", "days_before": 7, "due_at": DUE + timedelta(days=7), "status": "sent", "sent_at": DUE},
                    {"lead_id": "b", "race_id": "r1", "days_before": 7, "due_at": DUE + timedelta(days=7), "status": "scheduled", "sent_at": None},
                    # r2: voided (the race closed).
                    {"lead_id": "a", "race_id": "r2", "days_before": 1, "due_at": DUE, "status": "void", "sent_at": None},
                ],
            )  # fmt: skip
        upgrade_to_head(engine, MIGRATIONS)
        with engine.connect() as c:
            schedule = c.execute(
                sa.text(
                    "SELECT race_id, days_before, status FROM race_reminders ORDER BY race_id, days_before"
                )
            ).all()
            assert [tuple(r) for r in schedule] == [
                ("r1", 7, "scheduled"),
                ("r1", 14, "sent"),
                ("r2", 1, "void"),
            ]
            reminded = c.execute(
                sa.text("SELECT lead_id, race_id FROM lead_matches WHERE reminded ORDER BY lead_id, race_id")
            ).all()
            assert [tuple(r) for r in reminded] == [
                ("a", "r1"),
                ("a", "r2"),
                ("b", "r1"),
            ]  # not c: no reminders
            assert "reminders" not in sa.inspect(c).get_table_names()
            indexed = c.execute(sa.text("SELECT DISTINCT postal_code, birth_date FROM lead_divisions")).all()
            assert [(z, str(b)) for z, b in indexed] == [("66044", "1990-05-01")]
    finally:
        engine.dispose()
        databases.drop()
