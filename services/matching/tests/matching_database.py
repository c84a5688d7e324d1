"""Matching's database for tests: migrated, with its outbox read back as events."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from runway_eventbus.outbox import Outbox, messages_of
from runway_eventbus.unit_of_work import UnitOfWork
from runway_matching.adapters import tables
from runway_storage import create_database_engine, upgrade_to_head
from runway_storage.sessions import core_sessions

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


class MatchingDatabase:
    def __init__(self, url: str) -> None:
        self.engine = create_database_engine(url)
        upgrade_to_head(self.engine, MIGRATIONS)
        self.sessions = core_sessions(self.engine)
        self.outbox = Outbox(tables.outbox, source="/runway/matching")

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.outbox, lambda: None)

    def events(self, subject: str) -> list[dict[str, object]]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(tables.outbox.c.event_id, tables.outbox.c.body, tables.outbox.c.headers)
                .where(tables.outbox.c.subject == subject)
                .order_by(tables.outbox.c.seq)
            ).all()
        # What the relay would publish: a fan-out row's events one by one.
        return [json.loads(body)["data"] for row in rows for _, body in messages_of(*row)]

    def clear(self) -> None:
        with self.engine.begin() as c:
            for table in reversed(tables.metadata.sorted_tables):
                c.execute(table.delete())
            c.execute(tables.catalog_revision.insert().values(id=1, revision=0))
